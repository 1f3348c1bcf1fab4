import { describe, expect, test } from "bun:test";
import { closest, commandHelp, parseCommand, splitCommand, tokenize, topHelp, wantsHelp, wrap, type CommandDecl } from "./args.ts";
import { COMMANDS } from "./commands.ts";

const copyLike = {
  name: "copy",
  aliases: ["cp"],
  describe: "Copy things",
  positionals: [
    { name: "sources", required: true, variadic: true, describe: "What to copy" },
    { name: "dest", required: true, describe: "Where to" },
  ],
  options: {
    parents: { type: "boolean", short: "p", default: false, describe: "Create parents" },
    long: { type: "boolean", short: "l", default: false, describe: "Long" },
    limit: { type: "number", short: "n", min: 1, integer: true, describe: "At most N" },
    format: { type: "string", choices: ["text", "json"], default: "text", describe: "Output format" },
    header: { type: "boolean", describe: "A header" },
    timeStart: { type: "string", describe: "From" },
  },
} as const satisfies CommandDecl;

const parse = (words: string[]) => parseCommand(copyLike, words);

describe("parseCommand()", () => {
  test("reads positionals, long and short options, = values, --no- flags and defaults, typed", () => {
    const a = parse(["a", "-p", "--limit", "2", "--format=json", "--no-header", "b", "--time-start", "-5", "c"]);
    expect(a).toMatchObject({ sources: ["a", "b"], dest: "c", parents: true, long: false, limit: 2, format: "json", header: false, timeStart: "-5" });
    // The types follow the declaration: these lines would not compile otherwise.
    const n: number | undefined = a.limit;
    const f: "text" | "json" = a.format;
    const s: string[] = a.sources;
    expect([n, f, s.length]).toEqual([2, "json", 2]);
  });
  test("-n1, -n=1, grouped flags with a value at the end (-pln3)", () => {
    expect(parse(["-n1", "a", "b"]).limit).toBe(1);
    expect(parse(["-n=4", "a", "b"]).limit).toBe(4);
    expect(parse(["-pln3", "a", "b"])).toMatchObject({ parents: true, long: true, limit: 3 });
  });
  test("-- ends options: what follows is positional, even -h", () => {
    expect(parse(["-p", "--", "-h", "--weird"])).toMatchObject({ parents: true, sources: ["-h"], dest: "--weird" });
    expect(wantsHelp(copyLike, ["--", "-h"])).toBe(false);
    expect(wantsHelp(copyLike, ["a", "-h"])).toBe(true);
    expect(wantsHelp(copyLike, ["-ph"])).toBe(true);
  });
  test("a variadic slot leaves later required slots their words", () => {
    expect(parse(["a", "b", "c"])).toMatchObject({ sources: ["a", "b"], dest: "c" });
    expect(() => parse(["a"])).toThrow("pond copy needs at least one SOURCES");
    expect(() => parse([])).toThrow("pond copy needs at least one SOURCES");
  });
  test("optional and required positionals, too many", () => {
    const cat = { name: "cat", describe: "c", positionals: [{ name: "path", required: true, describe: "p" }] } as const satisfies CommandDecl;
    expect(() => parseCommand(cat, [])).toThrow("pond cat needs PATH");
    expect(() => parseCommand(cat, ["a", "b"])).toThrow('Unexpected argument "b" for pond cat: it takes <path>');
    const list = { name: "list", describe: "l", positionals: [{ name: "pattern", describe: "p" }] } as const satisfies CommandDecl;
    expect(parseCommand(list, []).pattern).toBeUndefined();
  });
  test("a typed positional is converted and choices are checked", () => {
    const d = {
      name: "x",
      describe: "x",
      positionals: [
        { name: "action", required: true, choices: ["add", "list"], describe: "a" },
        { name: "count", type: "number", describe: "c" },
      ],
    } as const satisfies CommandDecl;
    const a = parseCommand(d, ["add", "12"]);
    const c: number | undefined = a.count;
    expect(c).toBe(12);
    expect(() => parseCommand(d, ["ad"])).toThrow('Unknown action "ad" for pond x: use add, list (did you mean add?)');
    expect(() => parseCommand(d, ["add", "many"])).toThrow('COUNT must be a number, not "many"');
  });
  test("refuses unknown options (with a suggestion), missing values, bad numbers and choices", () => {
    expect(() => parse(["a", "b", "--frob"])).toThrow("pond copy has no option --frob");
    expect(() => parse(["a", "b", "--parnets"])).toThrow("did you mean --parents?");
    expect(() => parse(["a", "b", "--limit"])).toThrow("--limit needs a value: a whole number of at least 1");
    expect(() => parse(["a", "b", "--limit", "x"])).toThrow('--limit takes a whole number of at least 1, not "x"');
    expect(() => parse(["a", "b", "-n", "-5"])).toThrow('--limit takes a whole number of at least 1, not "-5"');
    expect(() => parse(["a", "b", "-n", "1.5"])).toThrow('not "1.5"');
    expect(() => parse(["a", "b", "--format", "jsn"])).toThrow('--format must be one of text, json, not "jsn" (did you mean json?)');
    expect(() => parse(["a", "b", "-pz"])).toThrow("pond copy has no option -z");
    expect(() => parse(["a", "b", "--parents=yes"])).toThrow('--parents is a flag and takes no value (got "yes")');
  });
  test("the global --pond option is known everywhere", () => {
    expect(parse(["--pond", "/p", "a", "b"])).toMatchObject({ pond: "/p", sources: ["a"], dest: "b" });
  });
});

describe("splitCommand()", () => {
  test("global options before the command go to it", () => {
    expect(splitCommand(["--pond", "/p", "list", "-l"], ["list"])).toEqual({ command: "list", words: ["--pond", "/p", "-l"], version: false });
    expect(splitCommand(["--pond=/p", "list"], ["list"])).toEqual({ command: "list", words: ["--pond=/p"], version: false });
    expect(splitCommand(["-h"], ["list"])).toEqual({ command: undefined, words: ["-h"], version: false });
  });
  test("an unknown option before the command is refused", () => {
    expect(() => splitCommand(["--pnd", "/p", "list"], ["list"])).toThrow("pond has no option --pnd; did you mean --pond?");
    expect(() => splitCommand(["--pond"], ["list"])).toThrow("--pond needs a value");
  });
});

describe("tokenize()", () => {
  test("a value-taking option takes the next word whatever it is", () => {
    const flags = new Map([["as-of", { key: "asOf", decl: { type: "string", describe: "" } as const }]]);
    expect(tokenize(["--as-of", "-1", "-"], flags)).toEqual([
      { kind: "option", raw: "--as-of", key: "asOf", value: "-1" },
      { kind: "positional", value: "-" },
    ]);
  });

  test("a word with white space is a value even when it starts with a dash (SQL that opens with a comment)", () => {
    const flags = new Map([["as-of", { key: "asOf", decl: { type: "string", describe: "" } as const }]]);
    expect(tokenize(["-- daily means\nSELECT 1", "--as-of", "2"], flags)).toEqual([
      { kind: "positional", value: "-- daily means\nSELECT 1" },
      { kind: "option", raw: "--as-of", key: "asOf", value: "2" },
    ]);
  });
});

describe("closest()", () => {
  test("suggests near misses and prefixes, not unrelated words", () => {
    expect(closest("lsit", ["list", "log", "copy"])).toBe("list");
    expect(closest("--form", ["--format", "--pond"])).toBe("--format");
    expect(closest("frobnicate", ["list", "log", "copy"])).toBeUndefined();
  });
});

describe("commandHelp()", () => {
  test("lists positionals and options with short flags, values and defaults", () => {
    const h = commandHelp(copyLike);
    expect(h).toContain("Usage: pond copy <sources..> <dest>");
    expect(h).toContain("Aliases: pond cp");
    expect(h).toContain("-p, --parents");
    expect(h).toContain("--format <text|json>");
    expect(h).toContain("(default: text)");
    expect(h).toContain("--pond <dir>");
  });
  test("wraps to the width it is given", () => {
    for (const width of [40, 60, 100]) {
      // Only a single word longer than the width (a URL) may overflow.
      const fits = (line: string) => line.length <= width || !line.trim().includes(" ") || line.startsWith("Usage:") || /^ {2}-/.test(line);
      for (const line of topHelp(COMMANDS, width).split("\n")) expect(fits(line), line).toBe(true);
      for (const c of COMMANDS) for (const line of commandHelp(c, width).split("\n")) expect(fits(line), line).toBe(true);
    }
    expect(wrap("aaa bbb ccc", 7, 2)).toBe("aaa bbb\n  ccc");
  });
  test("every command's help describes every positional and every option", () => {
    for (const c of COMMANDS) {
      const h = commandHelp(c, 200);
      for (const p of c.positionals ?? []) {
        expect(p.describe.trim().length).toBeGreaterThan(2);
        expect(h).toMatch(new RegExp(`\\n  ${p.name} +${p.describe.slice(0, 10).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      }
      for (const [key, o] of Object.entries(c.options ?? {})) {
        expect(o.describe.trim().length).toBeGreaterThan(2);
        const flag = "--" + key.replace(/[A-Z]/g, (x) => "-" + x.toLowerCase());
        const lines = h.split("\n");
        // The option's own row starts with its flags (`  -n, --limit <n>`), not a description that mentions it.
        const row = new RegExp(`^\\s+(-\\S+, )*${flag}(?![\\w-])`);
        const at = lines.findIndex((l) => row.test(l));
        expect(at, `${c.name} ${flag}`).toBeGreaterThan(-1);
        expect(lines[at]! + lines[at + 1]!).toContain(o.describe.slice(0, 10));
      }
    }
  });
});
