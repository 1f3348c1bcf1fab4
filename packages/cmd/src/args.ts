import { UsageError } from "./errors.ts";

/**
 * The command line, parsed without a framework (yargs cost ~30 ms of every run in the
 * compiled binary; see the README's measured decisions). A command is declared once, as
 * data (`CommandDecl`): its positionals in order with their arity, and its options keyed
 * by camelCase name (`asOf` is `--as-of`). `ArgsOf<typeof decl>` is the type of what
 * `parseCommand` returns for it, so a command reads `args.asOf` as `string | undefined`
 * and `args.limit` as `number | undefined`, never `args.x as string`.
 */
export interface OptionDecl {
  type: "string" | "number" | "boolean";
  /** One letter: `-n 5`, `-n5`, `-pl`. */
  short?: string;
  describe: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  /** Numbers: the smallest value accepted (a usage error below it). */
  min?: number;
  /** Numbers: whole numbers only. */
  integer?: boolean;
  /** The value's name in help: `--pond <dir>`. */
  valueName?: string;
}

export interface PositionalDecl {
  name: string;
  describe: string;
  type?: "string" | "number";
  required?: boolean;
  /** Takes every remaining word (one or more when required), less those later slots need. */
  variadic?: boolean;
  choices?: readonly string[];
}

export interface CommandDecl {
  name: string;
  aliases?: readonly string[];
  describe: string;
  positionals?: readonly PositionalDecl[];
  options?: { readonly [key: string]: OptionDecl };
}

type OptionValue<O> = O extends { choices: readonly (infer C)[] }
  ? C
  : O extends { type: "number" }
    ? number
    : O extends { type: "boolean" }
      ? boolean
      : string;
type OptionValues<Os> = { [K in keyof Os]: Os[K] extends { default: unknown } ? OptionValue<Os[K]> : OptionValue<Os[K]> | undefined };
type PositionalValue<P> = P extends { choices: readonly (infer C)[] } ? C : P extends { type: "number" } ? number : string;
type PositionalValues<Ps extends readonly PositionalDecl[]> = {
  [P in Ps[number] as P["name"]]: P extends { variadic: true }
    ? PositionalValue<P>[]
    : P extends { required: true }
      ? PositionalValue<P>
      : PositionalValue<P> | undefined;
};

/** What every command receives besides its own: the global options and the raw command line. */
export interface GlobalArgs {
  pond: string | undefined;
  /** The words after `pond`, as typed (recorded in the pond's history). */
  argv: string[];
}

// biome-ignore lint/complexity/noBannedTypes: `{}` is the identity of `&`: a declaration without positionals or options adds no keys
type NoKeys = {};

/** The parsed, converted arguments of a command declaration. */
export type ArgsOf<D extends CommandDecl> = GlobalArgs &
  (D["positionals"] extends readonly PositionalDecl[] ? PositionalValues<D["positionals"]> : NoKeys) &
  (D["options"] extends object ? OptionValues<D["options"]> : NoKeys);

/** A wrong command line (errors.ts): re-exported for the commands that import it from here. */
export { UsageError };

/** Options every command takes, before or after the command's name. */
export const GLOBAL_OPTIONS: { readonly [key: string]: OptionDecl } = {
  pond: { type: "string", valueName: "dir", describe: "The pond folder (default: $POND)" },
  help: { type: "boolean", short: "h", describe: "Show help" },
};

/** `asOf` → `as-of`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** One word of the command line as the engine split it. `name`: the declared key, when known. */
export type Token =
  | { kind: "option"; raw: string; key: string | undefined; value: string | undefined }
  | { kind: "positional"; value: string }
  | { kind: "terminator" };

interface Known {
  key: string;
  decl: OptionDecl;
}

/** Every flag spelling (`limit`, `n`) of the options, mapped to its key. */
function flagTable(options: { readonly [key: string]: OptionDecl }): Map<string, Known> {
  const byFlag = new Map<string, Known>();
  for (const [key, decl] of Object.entries(options)) {
    byFlag.set(flagName(key), { key, decl });
    if (decl.short) byFlag.set(decl.short, { key, decl });
  }
  return byFlag;
}

/**
 * Splits words into option, positional and terminator tokens, getopt-style: `--name
 * value`, `--name=value`, `-n 5`, `-n5`, `-abc` (flags), `-pn5`; `--` ends options; a
 * lone `-` is a positional. An option that takes a value takes the next word whatever it
 * is (`--as-of -1`), so the value's own check can refuse it.
 */
export function tokenize(words: readonly string[], byFlag: Map<string, Known>): Token[] {
  const tokens: Token[] = [];
  const takesValue = (flag: string) => {
    const k = byFlag.get(flag);
    return k !== undefined && k.decl.type !== "boolean";
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      tokens.push({ kind: "terminator" });
      for (const rest of words.slice(i + 1)) tokens.push({ kind: "positional", value: rest });
      break;
    }
    // No flag holds white space: a word that does is a value, such as SQL that starts
    // with a comment (`pond query "-- daily means\nSELECT …"`).
    if (/\s/.test(w)) {
      tokens.push({ kind: "positional", value: w });
      continue;
    }
    if (w.startsWith("--")) {
      const eq = w.indexOf("=");
      const flag = eq === -1 ? w.slice(2) : w.slice(2, eq);
      let value = eq === -1 ? undefined : w.slice(eq + 1);
      if (value === undefined && takesValue(flag) && i + 1 < words.length) value = words[++i];
      tokens.push({ kind: "option", raw: "--" + flag, key: byFlag.get(flag)?.key, value });
      continue;
    }
    if (w.startsWith("-") && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const ch = w[j]!;
        if (takesValue(ch)) {
          let value: string | undefined = w.slice(j + 1).replace(/^=/, "");
          if (value === "") value = i + 1 < words.length ? words[++i] : undefined;
          tokens.push({ kind: "option", raw: "-" + ch, key: byFlag.get(ch)!.key, value });
          break;
        }
        tokens.push({ kind: "option", raw: "-" + ch, key: byFlag.get(ch)?.key, value: undefined });
      }
      continue;
    }
    tokens.push({ kind: "positional", value: w });
  }
  return tokens;
}

/** Whether the words ask for help (`-h`/`--help` before any `--`). */
export function wantsHelp(decl: CommandDecl, words: readonly string[]): boolean {
  const byFlag = flagTable({ ...GLOBAL_OPTIONS, ...decl.options });
  return tokenize(words, byFlag).some((t) => t.kind === "option" && t.key === "help");
}

/**
 * Parses the words after the command's name (global options from before the name
 * included) against its declaration, converting and checking every value. Anything
 * wrong is a UsageError that says exactly what and, for a misspelt option, what was
 * probably meant.
 */
export function parseCommand<D extends CommandDecl>(decl: D, words: readonly string[]): ArgsOf<D> {
  const options = { ...GLOBAL_OPTIONS, ...decl.options };
  const byFlag = flagTable(options);
  const out: Record<string, unknown> = {};
  const positional: string[] = [];
  const cmd = decl.name;
  for (const t of tokenize(words, byFlag)) {
    if (t.kind === "terminator") continue;
    if (t.kind === "positional") {
      positional.push(t.value);
      continue;
    }
    let key = t.key;
    let negated = false;
    if (key === undefined && t.raw.startsWith("--no-")) {
      const k = byFlag.get(t.raw.slice(5));
      if (k?.decl.type === "boolean") {
        key = k.key;
        negated = true;
      }
    }
    if (key === undefined)
      throw unknownOption(
        t.raw,
        cmd,
        [...byFlag.keys()].map((f) => (f.length === 1 ? "-" : "--") + f),
      );
    const o = options[key]!;
    const flag = "--" + flagName(key);
    if (o.type === "boolean") {
      if (t.value !== undefined && t.value !== "true" && t.value !== "false")
        throw new UsageError(`${t.raw} is a flag and takes no value (got "${t.value}")`, cmd);
      out[key] = negated ? false : t.value !== "false";
      continue;
    }
    if (t.value === undefined) throw new UsageError(`${flag} needs a value: ${valueHint(o)}`, cmd);
    out[key] = convertOption(flag, o, t.value, cmd);
  }
  for (const [key, o] of Object.entries(options)) if (out[key] === undefined && o.default !== undefined) out[key] = o.default;
  assignPositionals(decl, positional, out);
  delete out.help;
  out.argv = [...words];
  return out as ArgsOf<D>;
}

function assignPositionals(decl: CommandDecl, words: string[], out: Record<string, unknown>): void {
  const slots = decl.positionals ?? [];
  let k = 0;
  for (const [i, slot] of slots.entries()) {
    if (slot.variadic) {
      const later = slots.slice(i + 1).filter((s) => s.required).length;
      const take = Math.max(0, words.length - k - later);
      if (slot.required && take === 0) throw missing(decl, slot);
      out[slot.name] = words.slice(k, k + take).map((w) => convertPositional(decl, slot, w));
      k += take;
    } else if (k < words.length) {
      out[slot.name] = convertPositional(decl, slot, words[k++]!);
    } else if (slot.required) {
      throw missing(decl, slot);
    }
  }
  if (k < words.length) {
    const wanted = slots.length ? `it takes ${usageLine(decl).slice(decl.name.length + 1)}` : "it takes no arguments";
    throw new UsageError(`Unexpected argument "${words[k]}" for pond ${decl.name}: ${wanted}`, decl.name);
  }
}

function missing(decl: CommandDecl, slot: PositionalDecl): UsageError {
  return new UsageError(
    `pond ${decl.name} needs ${slot.variadic ? "at least one " : ""}${slot.name.toUpperCase()} (${slot.describe}): ${usageLine(decl)}`,
    decl.name,
  );
}

function convertPositional(decl: CommandDecl, slot: PositionalDecl, w: string): unknown {
  if (slot.choices && !slot.choices.includes(w)) {
    const near = closest(w, slot.choices);
    throw new UsageError(
      `Unknown ${slot.name} "${w}" for pond ${decl.name}: use ${slot.choices.join(", ")}${near ? ` (did you mean ${near}?)` : ""}`,
      decl.name,
    );
  }
  if (slot.type === "number") {
    const v = Number(w);
    if (w.trim() === "" || Number.isNaN(v)) throw new UsageError(`${slot.name.toUpperCase()} must be a number, not "${w}"`, decl.name);
    return v;
  }
  return w;
}

function valueHint(o: OptionDecl): string {
  if (o.choices) return `one of ${o.choices.join(", ")}`;
  if (o.type === "number") return o.min !== undefined ? `a ${o.integer ? "whole " : ""}number of at least ${o.min}` : `a ${o.integer ? "whole " : ""}number`;
  return o.valueName ? `a ${o.valueName}` : "a value";
}

function convertOption(flag: string, o: OptionDecl, value: string, cmd: string): unknown {
  if (o.choices) {
    if (!o.choices.includes(value)) {
      const near = closest(value, o.choices);
      throw new UsageError(`${flag} must be one of ${o.choices.join(", ")}, not "${value}"${near ? ` (did you mean ${near}?)` : ""}`, cmd);
    }
    return value;
  }
  if (o.type === "number") {
    const v = Number(value);
    const bad = value.trim() === "" || !Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || (o.min !== undefined && v < o.min);
    if (bad) throw new UsageError(`${flag} takes ${valueHint(o)}, not "${value}"`, cmd);
    return v;
  }
  return value;
}

function unknownOption(raw: string, cmd: string | undefined, known: string[]): UsageError {
  const near = closest(raw, known);
  const where = cmd ? `pond ${cmd}` : "pond";
  return new UsageError(
    `${where} has no option ${raw}${near ? `; did you mean ${near}?` : ""}${near ? "" : ` (a value that starts with "-" goes after \`--\`)`}`,
    cmd,
  );
}

/** Optimal string alignment distance (a swap of two letters counts once). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word`, if near enough to be a typo (or `word` is its prefix). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = c.startsWith(word) && word.replace(/^-+/, "").length >= 2 ? 0.5 : editDistance(word, c);
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  const limit = Math.max(1, Math.floor(word.replace(/^-+/, "").length / 3));
  return bestD <= limit ? best : undefined;
}

/** `mkdir <paths..>`, `list [pattern]`, `copy <sources..> <dest>`. */
export function usageLine(decl: CommandDecl): string {
  const slots = (decl.positionals ?? []).map((p) => {
    const n = p.name + (p.variadic ? ".." : "");
    return p.required ? `<${n}>` : `[${n}]`;
  });
  return [decl.name, ...slots].join(" ");
}

/** Wraps `text` to `width` columns, continuing lines at `indent`. */
export function wrap(text: string, width: number, indent: number): string {
  const lead = /^ */.exec(text)![0];
  const words = text.slice(lead.length).split(/ +/);
  const lines: string[] = [];
  let line = lead;
  for (const w of words) {
    if (line.trim() && line.length + 1 + w.length > width) {
      lines.push(line);
      line = " ".repeat(indent) + w;
    } else {
      line = line.trim() ? line + " " + w : line + w;
    }
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** Two columns (`  left  description`), the description wrapped to `width`. */
function table(rows: (readonly [string, string])[], width: number): string[] {
  const w = Math.min(Math.max(...rows.map((r) => r[0].length)), 32);
  // On a narrow terminal each description goes under its name instead of beside it.
  if (w + 4 > width * 0.45) return rows.map(([l, d]) => `  ${l}\n` + wrap("      " + d, width, 6));
  return rows.map(([l, d]) => {
    const body = wrap(" ".repeat(w + 4) + d, width, w + 4);
    if (l.length > w) return `  ${l}\n` + body;
    return `  ${l.padEnd(w)}  ` + body.slice(w + 4);
  });
}

function optionRow(key: string, o: OptionDecl): readonly [string, string] {
  const flags = [...(o.short ? [`-${o.short}`] : []), `--${flagName(key)}`].join(", ");
  const value = o.type === "boolean" ? "" : o.choices ? ` <${o.choices.join("|")}>` : ` <${o.valueName ?? (o.type === "number" ? "n" : "value")}>`;
  const dflt = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "";
  return [flags + value, o.describe + dflt];
}

/** `pond CMD --help`, wrapped to `width` columns. */
export function commandHelp(decl: CommandDecl, width = 80): string {
  const lines = [`Usage: pond ${usageLine(decl)} [options]`, "", wrap(decl.describe, width, 0), ""];
  if (decl.aliases?.length) lines.push(`Aliases: ${decl.aliases.map((a) => `pond ${a}`).join(", ")}`, "");
  const slots = decl.positionals ?? [];
  if (slots.length) {
    lines.push(
      "Positionals:",
      ...table(
        slots.map((s) => [s.name, s.describe + (s.choices ? ` (${s.choices.join(", ")})` : "")] as const),
        width,
      ),
      "",
    );
  }
  const rows = [...Object.entries(decl.options ?? {}), ...Object.entries(GLOBAL_OPTIONS)].map(([k, o]) => optionRow(k, o));
  lines.push("Options:", ...table(rows, width), "");
  return lines.join("\n");
}

/** `pond --help`, wrapped to `width` columns. */
export function topHelp(commands: readonly CommandDecl[], width = 80): string {
  return [
    wrap("pond: a very small data lake (a versioned filesystem of files, tables and series, with SQL and S3 backup)", width, 0),
    "",
    wrap("Usage: pond [--pond DIR] <command> [options]    (pond <command> --help for its options)", width, 7),
    "",
    "Commands:",
    ...table(
      commands.map((c) => [usageLine(c), c.describe] as const),
      width,
    ),
    "",
    "Options:",
    ...table([...Object.entries(GLOBAL_OPTIONS).map(([k, o]) => optionRow(k, o)), ["--version", "Show the version"] as const], width),
    "",
  ].join("\n");
}

/**
 * Splits `pond [global options] COMMAND [words]`: the global options before the command
 * are handed to it with the rest. Returns no command when none is named.
 */
export function splitCommand(argv: readonly string[], commandNames: readonly string[]): { command: string | undefined; words: string[]; version: boolean } {
  const byFlag = flagTable(GLOBAL_OPTIONS);
  const before: string[] = [];
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === "--version" || w === "-V") {
      version = true;
      continue;
    }
    if (!w.startsWith("-") || w === "-" || w === "--") {
      if (w === "--") throw new UsageError("Name a command before `--`; `pond --help` lists them.");
      return { command: w, words: [...before, ...argv.slice(i + 1)], version };
    }
    const flag = w.replace(/^--?/, "").replace(/=.*$/, "");
    const known = byFlag.get(flag);
    if (!known) throw unknownOption(w, undefined, ["--pond", "--help", "-h", "--version", ...commandNames]);
    before.push(w);
    if (known.decl.type !== "boolean" && !w.includes("=")) {
      if (i + 1 >= argv.length) throw new UsageError(`--${flag} needs a value: ${valueHint(known.decl)}`);
      before.push(argv[++i]!);
    }
  }
  return { command: undefined, words: before, version };
}
