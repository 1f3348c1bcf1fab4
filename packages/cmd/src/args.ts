import { PondError } from "@pond/diagnostics";

/**
 * The command line, parsed without a framework. yargs took ~22 ms to import plus ~10 ms to
 * build its parser in the compiled binary — a fifth of the 150 ms budget of `pond cat` —
 * so commands declare their arguments with the same builder shape (`positional`,
 * `option`) into this recorder, and `parseArgs` reads argv strictly against it.
 */
export interface OptionSpec {
  type?: "string" | "number" | "boolean";
  alias?: string | string[];
  describe?: string;
  default?: unknown;
  choices?: readonly unknown[];
}

export interface PositionalSpec {
  type?: "string" | "number";
  describe?: string;
  array?: boolean;
}

/** What a command's builder declares. */
export class ArgSpec {
  readonly positionals = new Map<string, PositionalSpec>();
  readonly options = new Map<string, OptionSpec>();

  positional(name: string, spec: PositionalSpec = {}): this {
    this.positionals.set(name, spec);
    return this;
  }

  option(name: string, spec: OptionSpec = {}): this {
    this.options.set(name, spec);
    return this;
  }
}

/** A wrong command line: exit 2, with a pointer to the command's help. */
export class UsageError extends PondError {
  constructor(message: string, command?: string) {
    super("usage", message, { kind: "usage", hint: `Run \`pond ${command ? command + " " : ""}--help\` for usage.` });
  }
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: [string, OptionSpec][] = [
  ["pond", { type: "string", describe: "The pond folder (default: $POND)" }],
  ["help", { type: "boolean", alias: "h", describe: "Show help" }],
];

interface Slot {
  name: string;
  required: boolean;
  variadic: boolean;
}

/** `mkdir <paths..>` → [{paths, required, variadic}]. */
export function slotsOf(command: string): Slot[] {
  return command.split(" ").slice(1).map((w) => ({
    name: w.replace(/^[<[]|[>\]]$/g, "").replace(/\.\.$/, ""),
    required: w.startsWith("<"),
    variadic: w.includes(".."),
  }));
}

/**
 * Parses the words after the command name: `--name value`, `--name=value`, `--flag`,
 * `--no-flag`, `-x`, `-abc` (boolean short flags), `--` ending options. Unknown options,
 * missing values, bad numbers and choices, and wrong positional counts are UsageErrors.
 * Every option is set under its name and all its aliases.
 */
export function parseArgs(commandName: string, command: string, spec: ArgSpec, words: string[]): Record<string, unknown> {
  const byName = new Map<string, [string, OptionSpec]>();
  for (const [name, o] of [...GLOBAL_OPTIONS, ...spec.options]) {
    for (const n of [name, ...aliases(o)]) byName.set(n, [name, o]);
  }
  const out: Record<string, unknown> = {};
  const set = (name: string, o: OptionSpec, v: unknown) => {
    for (const n of [name, ...aliases(o)]) out[n] = v;
  };
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      positional.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith("-") || w === "-" || /^-\d/.test(w)) {
      positional.push(w);
      continue;
    }
    const long = w.startsWith("--");
    const body = long ? w.slice(2) : w.slice(1);
    const eq = body.indexOf("=");
    let key = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (!long && key.length > 1 && inline === undefined) {
      // -abc: a run of boolean short flags.
      for (const ch of key) {
        const hit = byName.get(ch);
        if (!hit || (hit[1].type ?? "string") !== "boolean") throw new UsageError(`Unknown argument: -${ch}`, commandName);
        set(hit[0], hit[1], true);
      }
      continue;
    }
    let negated = false;
    if (long && !byName.has(key) && key.startsWith("no-") && byName.get(key.slice(3))?.[1].type === "boolean") {
      key = key.slice(3);
      negated = true;
    }
    const hit = byName.get(key);
    if (!hit) throw new UsageError(`Unknown argument: ${w}`, commandName);
    const [name, o] = hit;
    if ((o.type ?? "string") === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") throw new UsageError(`${w}: a flag takes no value`, commandName);
      set(name, o, negated ? false : inline !== "false");
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= words.length) throw new UsageError(`--${name} needs a value`, commandName);
      value = words[++i]!;
    }
    set(name, o, convert(name, o, value, commandName));
  }
  for (const [name, o] of [...GLOBAL_OPTIONS, ...spec.options]) {
    if (out[name] === undefined && o.default !== undefined) set(name, o, o.default);
  }
  const slots = slotsOf(command);
  let k = 0;
  for (const slot of slots) {
    if (slot.variadic) {
      const rest = positional.slice(k);
      if (slot.required && rest.length === 0) throw new UsageError(`Not enough arguments: give ${slot.name}`, commandName);
      out[slot.name] = rest;
      k = positional.length;
    } else if (k < positional.length) {
      out[slot.name] = positional[k++];
    } else if (slot.required) {
      throw new UsageError(`Not enough arguments: give ${slot.name}`, commandName);
    }
  }
  if (k < positional.length) throw new UsageError(`Unknown argument: ${positional[k]}`, commandName);
  return out;
}

function aliases(o: OptionSpec): string[] {
  return o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
}

function convert(name: string, o: OptionSpec, value: string, commandName: string): unknown {
  let v: unknown = value;
  if (o.type === "number") {
    v = Number(value);
    if (value.trim() === "" || Number.isNaN(v)) throw new UsageError(`--${name} takes a number, not "${value}"`, commandName);
  }
  if (o.choices && !o.choices.includes(v)) throw new UsageError(`--${name} must be one of ${o.choices.join(", ")}, not "${value}"`, commandName);
  return v;
}

/** `pond CMD --help`. */
export function commandHelp(command: string, describe: string, aliasesOf: string[] | undefined, spec: ArgSpec): string {
  const lines = [`pond ${command}`, "", describe, ""];
  if (aliasesOf?.length) lines.push(`Aliases: ${aliasesOf.map((a) => `pond ${a}`).join(", ")}`, "");
  const slots = slotsOf(command);
  if (slots.length) {
    lines.push("Positionals:");
    const w = Math.max(...slots.map((s) => s.name.length));
    for (const s of slots) lines.push(`  ${s.name.padEnd(w)}  ${spec.positionals.get(s.name)?.describe ?? ""}`.trimEnd());
    lines.push("");
  }
  lines.push("Options:");
  const rows = [...spec.options, ...GLOBAL_OPTIONS].map(([name, o]) => {
    const all = [name, ...aliases(o)];
    const flags = [...all.filter((a) => a.length === 1).map((a) => `-${a}`), ...all.filter((a) => a.length > 1).map((a) => `--${a}`)].join(", ");
    const value = (o.type ?? "string") === "boolean" ? "" : o.choices ? ` <${o.choices.join("|")}>` : o.type === "number" ? " <n>" : " <value>";
    const dflt = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "";
    return [flags + value, (o.describe ?? "") + dflt] as const;
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}  ${d}`.trimEnd());
  return lines.join("\n") + "\n";
}

/** `pond --help`. */
export function topHelp(commands: { command: string; describe: string }[]): string {
  const w = Math.max(...commands.map((c) => c.command.length));
  return [
    "pond: a very small data lake (a versioned filesystem of files, tables and series, with SQL and S3 backup)",
    "",
    "Usage: pond <command> [options]    (pond <command> --help for its options)",
    "",
    "Commands:",
    ...commands.map((c) => `  pond ${c.command.padEnd(w)}  ${c.describe}`),
    "",
    "Options:",
    "  --pond <dir>   The pond folder (default: $POND)",
    "  -h, --help     Show help",
    "  --version      Show the version",
    "",
  ].join("\n");
}
