import { describe, expect, test } from "bun:test";
import { ArgSpec, commandHelp, parseArgs } from "./args.ts";

const spec = () =>
  new ArgSpec()
    .positional("sources", { describe: "SRC... DEST" })
    .option("p", { alias: "parents", type: "boolean", default: false, describe: "Create parents" })
    .option("l", { alias: "long", type: "boolean", default: false })
    .option("version", { type: "number" })
    .option("format", { choices: ["text", "json"] as const, default: "text" })
    .option("header", { type: "boolean" })
    .option("time-start", { type: "string" });

describe("parseArgs()", () => {
  test("reads positionals, long and short options, aliases, = values, --no- flags and defaults", () => {
    const a = parseArgs("copy", "copy <sources..>", spec(), ["a", "-p", "--version", "2", "--format=json", "--no-header", "b", "--time-start", "-5"]);
    expect(a).toMatchObject({ sources: ["a", "b"], p: true, parents: true, l: false, long: false, version: 2, format: "json", header: false, "time-start": "-5" });
  });
  test("combined short flags and -- ending options", () => {
    expect(parseArgs("copy", "copy <sources..>", spec(), ["-pl", "--", "--weird"])).toMatchObject({ parents: true, long: true, sources: ["--weird"] });
  });
  test("optional and required positionals", () => {
    expect(parseArgs("list", "list [pattern]", new ArgSpec(), [])).toEqual({});
    expect(() => parseArgs("cat", "cat <path>", new ArgSpec(), [])).toThrow("Not enough arguments: give path");
    expect(() => parseArgs("cat", "cat <path>", new ArgSpec(), ["a", "b"])).toThrow("Unknown argument: b");
  });
  test("refuses unknown options, missing values, bad numbers and choices", () => {
    expect(() => parseArgs("copy", "copy <sources..>", spec(), ["a", "--frob"])).toThrow("Unknown argument: --frob");
    expect(() => parseArgs("copy", "copy <sources..>", spec(), ["a", "--version"])).toThrow("--version needs a value");
    expect(() => parseArgs("copy", "copy <sources..>", spec(), ["a", "--version", "x"])).toThrow("takes a number");
    expect(() => parseArgs("copy", "copy <sources..>", spec(), ["a", "--format", "xml"])).toThrow("must be one of text, json");
    expect(() => parseArgs("copy", "copy <sources..>", spec(), ["a", "-pz"])).toThrow("Unknown argument: -z");
  });
  test("the global --pond option is known everywhere", () => {
    expect(parseArgs("list", "list [pattern]", new ArgSpec(), ["--pond", "/p", "/x"])).toMatchObject({ pond: "/p", pattern: "/x" });
  });
});

describe("commandHelp()", () => {
  test("lists positionals and options with aliases, values and defaults", () => {
    const h = commandHelp("copy <sources..>", "Copy things", ["cp"], spec());
    expect(h).toContain("pond copy <sources..>");
    expect(h).toContain("Aliases: pond cp");
    expect(h).toContain("-p, --parents");
    expect(h).toContain("--format <text|json>");
    expect(h).toContain("(default: text)");
    expect(h).toContain("--pond <value>");
  });
});
