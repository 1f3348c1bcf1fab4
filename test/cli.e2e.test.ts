import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { POND_BIN, latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let p: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  p = await newPond();
  await pondOk(["mkdir", "/a", "--pond", p.pondDir]);
  await pondOk(["mkdir", "/b", "--pond", p.pondDir]);
});
afterAll(() => p.cleanup());

/** Runs a bad command line: exit 2, a message containing each of `says`, and the pond unchanged. */
async function usage(args: string[], ...says: string[]) {
  const before = await latestLogVersion(p.pondDir);
  const r = await pond(args, { pond: p.pondDir });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  for (const s of says) expect(r.stderr).toContain(s);
  expect(await latestLogVersion(p.pondDir)).toBe(before);
  return r;
}

describe("parsing as users expect", () => {
  test("the global --pond works before the command, after it, and as --pond=DIR", async () => {
    const want = "/a\n/b\n";
    expect((await pondOk(["--pond", p.pondDir, "list"])).stdout).toBe(want);
    expect((await pondOk([`--pond=${p.pondDir}`, "list"])).stdout).toBe(want);
    expect((await pondOk(["list", "--pond", p.pondDir])).stdout).toBe(want);
  });
  test("-- ends options: `pond mkdir -- -h` makes /-h", async () => {
    const t = await newPond();
    try {
      await pondOk(["--pond", t.pondDir, "mkdir", "--", "-h"]);
      expect((await pondOk(["list", "--pond", t.pondDir])).stdout).toBe("/-h\n");
    } finally {
      t.cleanup();
    }
  });
  test("-n1 is -n 1", async () => {
    const one = await pondOk(["log", "-n1", "--format", "json", "--pond", p.pondDir]);
    expect(JSON.parse(one.stdout)).toHaveLength(1);
    const two = await pondOk(["log", "-n", "2", "--format=json", "--pond", p.pondDir]);
    expect(JSON.parse(two.stdout)).toHaveLength(2);
  });
  test("did you mean, for commands and options", async () => {
    await usage(["lsit"], 'Unknown command "lsit"', "did you mean `pond list`?");
    await usage(["list", "--lnog"], "pond list has no option --lnog", "did you mean --long?");
    await usage(["--pnd", p.pondDir, "list"], "did you mean --pond?");
    await usage(["log", "--format", "jsn"], "--format must be one of text, json", "did you mean json?");
  });
  test("unknown actions and wrong flags say exactly what is wrong", async () => {
    await usage(["remote", "frobnicate"], 'Unknown action "frobnicate" for pond remote: use add, list, remove');
    await usage(["log", "--limit"], "--limit needs a value");
    await usage(["mkdir", "--parents=maybe", "/x"], "--parents is a flag and takes no value");
    await usage(["cat", "/a", "/b"], 'Unexpected argument "/b" for pond cat');
    await usage(["copy", "host:///x"], "pond copy needs at least one SOURCES");
  });
  test("--as-of -1 and log -n -5 are usage errors", async () => {
    await usage(["list", "--as-of", "-1"], '--as-of "-1"');
    await usage(["list", "--as-of", "yesterday"], "ISO 8601");
    await usage(["log", "-n", "-5"], '--limit takes a whole number of at least 1, not "-5"');
    await usage(["log", "-n", "0"], "--limit");
    expect((await pondOk(["list", "--as-of", "1", "--pond", p.pondDir])).stdout).toBe("/a\n");
  });
  test("--help is wrapped to the terminal width ($COLUMNS)", async () => {
    const r = await pondOk(["cat", "--help"], { env: { COLUMNS: "50" } });
    for (const line of r.stdout.split("\n")) if (line.trim().includes(" ")) expect(line.length, line).toBeLessThanOrEqual(50);
  });
});

describe("--help of every command describes every positional and every option", () => {
  test("each command listed by pond --help", async () => {
    const top = (await pondOk(["--help"])).stdout;
    const names = [...top.matchAll(/^ {2}([a-z]+)(?: |$)/gm)].map((m) => m[1]!);
    expect(names).toContain("copy");
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) {
      const h = (await pondOk([name, "--help"], { env: { COLUMNS: "200" } })).stdout;
      expect(h).toContain(`Usage: pond ${name}`);
      const lines = h.split("\n");
      const section = (title: string) => {
        const at = lines.indexOf(title);
        if (at === -1) return [];
        const end = lines.findIndex((l, i) => i > at && l === "");
        // A description wrapped or put under a long name continues the row above it.
        const rows: string[] = [];
        for (const l of lines.slice(at + 1, end))
          if (/^ {5}/.test(l) && rows.length) rows[rows.length - 1] += "  " + l.trim();
          else rows.push(l);
        return rows;
      };
      const usageWords = (lines[0]!.match(/<[^>]+>|\[[^\]]+\]/g) ?? []).filter((w) => w !== "[options]");
      const positionals = section("Positionals:");
      expect(positionals.length, name).toBe(usageWords.length);
      for (const row of [...positionals, ...section("Options:")]) {
        // Every row is "  NAME  description" with a description of some words.
        expect(row, `${name}: ${row}`).toMatch(/^ {2}\S.*?\S {2,}\S+ \S+/);
      }
      expect(section("Options:").some((l) => l.includes("--pond <dir>"))).toBe(true);
    }
  });
});

describe("pond completion", () => {
  const bin = dirname(POND_BIN);
  /** What bash offers for the words (the last is being completed), through the real script. */
  async function bashComplete(words: string[]): Promise<string[]> {
    const script = join(p.dir, "pond-completion.bash");
    writeFileSync(script, (await pondOk(["completion", "bash"])).stdout);
    const quoted = words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(" ");
    const prog = `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _pond_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = Bun.spawnSync(["bash", "--norc", "--noprofile", "-c", prog], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    return r.stdout.toString().split("\n").filter(Boolean).sort();
  }
  test("bash: commands, options, option values, positional choices and host files", async () => {
    expect(await bashComplete(["pond", "li"])).toEqual(["list"]);
    expect(await bashComplete(["pond", "--pond", "/x", "l"])).toEqual(["list", "ln", "log"]);
    expect(await bashComplete(["pond", "log", "--f"])).toEqual(["--format"]);
    expect(await bashComplete(["pond", "log", "--format", ""])).toEqual(["json", "text"]);
    expect(await bashComplete(["pond", "remote", ""])).toEqual(["add", "list", "remove"]);
    expect(await bashComplete(["pond", "completion", "z"])).toEqual(["zsh"]);
    writeFileSync(join(p.dir, "abc.txt"), "x");
    expect(await bashComplete(["pond", "copy", join(p.dir, "ab")])).toEqual([join(p.dir, "abc.txt")]);
  });
  test("zsh and fish scripts call the same completer", async () => {
    for (const shell of ["zsh", "fish"]) {
      const s = (await pondOk(["completion", shell])).stdout;
      expect(s).toContain("pond __complete");
    }
    const r = await pondOk(["__complete", "cat", "--time-"]);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(["--time-end", "--time-start"]);
  });
  test("an unknown shell is a usage error", async () => {
    await usage(["completion", "tcsh"], 'Unknown shell "tcsh" for pond completion: use bash, zsh, fish');
  });
});

describe("advice names the command that does it", () => {
  test("a type change and an existing link name say `pond rm PATH`, and following the advice works", async () => {
    const t = await newPond();
    try {
      const csv = join(t.dir, "t.csv");
      writeFileSync(csv, "a,b\n1,2\n");
      await pondOk(["copy", `host://${csv}`, "/t", "--pond", t.pondDir]);
      const r = await pond(["copy", `host+csv://${csv}`, "/t", "--pond", t.pondDir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("`pond rm /t`");
      await pondOk(["rm", "/t", "--pond", t.pondDir]);
      await pondOk(["copy", `host+csv://${csv}`, "/t", "--pond", t.pondDir]);
      const l = await pond(["ln", "-s", "/elsewhere", "/t", "--pond", t.pondDir]);
      expect(l.code).toBe(1);
      expect(l.stderr).toContain("`pond rm /t`");
    } finally {
      t.cleanup();
    }
  });
});
