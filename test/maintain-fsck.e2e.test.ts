// Issue 15, fsck: each kind of damage is found with its path and what to do, exit 4; a whole
// pond exits 0 with a summary. Damage here: a table payload's Parquet footer (found with --quick,
// which skips hashes but still decodes footers), an entry file of the log, and the control log
// missing the record of a committed transaction.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, pond, pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
let base: string;
let n = 0;
const VEGA = join(FIXTURES, "timeseries/vega-datasets");

beforeAll(async () => {
  tmp = tempDir("pond-maintain-fsck-");
  base = join(tmp.dir, "base");
  await pondOk(["init"], { pond: base });
  await pondOk(["copy", `host+csv://${join(VEGA, "seattle-weather.csv")}`, "/t.table"], { pond: base });
  await pondOk(["copy", `host://${join(VEGA, "co2-concentration.csv")}`, "/co2.csv"], { pond: base });
});
afterAll(() => tmp?.cleanup());

/** A copy of the base pond to damage. */
function copy(): { pond: string } {
  const d = join(tmp.dir, `c${n++}`);
  cpSync(base, d, { recursive: true });
  return { pond: d };
}

const files = (dir: string, under: string) =>
  (readdirSync(join(dir, under), { recursive: true }) as string[]).filter((f) => statSync(join(dir, under, f)).isFile() && !f.startsWith("."));

interface Report {
  problems: { path: string; problem: string; fix: string }[];
}

describe("pond fsck", () => {
  test("a whole pond: exit 0 and a summary", async () => {
    const r = await pond(["fsck"], { pond: base });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/checked snapshots 0\.\.2 \(3\), \d+ entry file\(s\), 1 payload\(s\)/);
    expect(r.stdout).toContain("whole: no problems found");
  });

  test("a table payload whose Parquet footer does not decode, found even by --quick", async () => {
    const P = copy();
    const [payload] = files(P.pond, "data/_large_files");
    const f = join(P.pond, "data/_large_files", payload!);
    const bytes = readFileSync(f);
    bytes.fill(0x41, bytes.length - 40, bytes.length - 4); // the footer's length and metadata, same size
    writeFileSync(f, bytes);
    const r = await pond(["fsck", "--quick", "--format", "json"], P);
    expect(r.code).toBe(4);
    const { problems } = JSON.parse(r.stdout) as Report;
    expect(problems).toEqual([
      {
        path: `data/_large_files/${payload}`,
        problem: expect.stringContaining("Parquet footer does not decode"),
        fix: expect.stringContaining("pond restore"),
      },
    ]);
    const text = await pond(["fsck"], P);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain(`PROBLEM data/_large_files/${payload}`);
    expect(text.stderr).toContain("fsck found");
  });

  test("a byte changed past the first MiB of a 3 MiB payload is found, and a Parquet file's damaged head even by --quick", async () => {
    const P = copy();
    // fsck hashes a payload a chunk (1 MiB) at a time: damage in a later chunk must count too.
    const big = join(tmp.dir, `big${n}.bin`);
    const content = Buffer.alloc(3 << 20, 7);
    writeFileSync(big, content);
    await pondOk(["copy", `host://${big}`, "/big.bin"], P);
    const before = new Set(files(base, "data/_large_files"));
    const [bigPayload] = files(P.pond, "data/_large_files").filter(
      (f) => !before.has(f) && statSync(join(P.pond, "data/_large_files", f)).size === content.length,
    );
    const whole = await pond(["fsck", "--format", "json"], P);
    expect(whole.code).toBe(0);
    const bf = join(P.pond, "data/_large_files", bigPayload!);
    const damaged = readFileSync(bf);
    damaged[(5 << 19) + 3] = 8; // 2.5 MiB in: the third chunk
    writeFileSync(bf, damaged);
    // The table's payload, its first bytes changed (same size): --quick skips hashes, not the magic.
    const [table] = [...before].filter(
      (f) =>
        readFileSync(join(P.pond, "data/_large_files", f))
          .subarray(0, 4)
          .toString("latin1") === "PAR1",
    );
    const tf = join(P.pond, "data/_large_files", table!);
    const tb = readFileSync(tf);
    tb.write("XXXX", 0, "latin1");
    writeFileSync(tf, tb);
    const quick = await pond(["fsck", "--quick", "--format", "json"], P);
    expect(quick.code).toBe(4);
    expect((JSON.parse(quick.stdout) as Report).problems.map((p) => [p.path, p.problem])).toEqual([
      [`data/_large_files/${table}`, expect.stringContaining("does not start with PAR1")],
    ]);
    const full = await pond(["fsck", "--format", "json"], P);
    expect(full.code).toBe(4);
    const problems = (JSON.parse(full.stdout) as Report).problems;
    expect(problems.find((p) => p.path === `data/_large_files/${bigPayload}`)?.problem).toContain("hashes to");
    expect(problems.find((p) => p.path === `data/_large_files/${table}`)?.problem).toContain("hashes to");
  });

  test("an entry file of the log that does not decode", async () => {
    const P = copy();
    const entry = files(P.pond, "data").filter((f) => f.startsWith("part_id=") && f.endsWith(".parquet"))[0]!;
    const f = join(P.pond, "data", entry);
    const bytes = readFileSync(f);
    bytes.fill(0, 4, bytes.length - 4);
    writeFileSync(f, bytes);
    const r = await pond(["fsck", "--format", "json"], P);
    expect(r.code).toBe(4);
    const { problems } = JSON.parse(r.stdout) as Report;
    expect(problems.map((p) => p.path)).toContain(`data/${entry}`);
  });

  test("the control log lacking the record of a committed transaction", async () => {
    const P = copy();
    const log = join(P.pond, "control/transactions.jsonl");
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const last = lines.findLastIndex((l) => JSON.parse(l).type === "committed");
    writeFileSync(log, lines.filter((_, i) => i !== last).join("\n") + "\n");
    const r = await pond(["fsck", "--format", "json"], P);
    expect(r.code).toBe(4);
    const { problems } = JSON.parse(r.stdout) as Report;
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(["control/transactions.jsonl"]));
    expect(problems.map((p) => p.problem).join("\n")).toMatch(/version 2|never ended/);
  });
});
