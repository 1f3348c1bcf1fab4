// Issue 15: cleanup prunes the shards of control/verified-payloads/. After merge and `full --keep-last 1
// --retention 0s` delete the old payloads, the record holds no line for a payload that is gone
// (so every read stops parsing them), queries answer the same, and the payloads still there
// stay verified: the first query after cleanup hashes none.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, newPond, pond, pondOk } from "./support/pond-cli.ts";

const SEATTLE = join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv");
let ctx: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  ctx = await newPond();
});
afterAll(() => ctx.cleanup());

const DEBUG = { POND_LOG: "debug", POND_LOG_FORMAT: "json" };
const hashed = (stderr: string) => stderr.split("\n").filter((l) => l.includes('"payload_hashed"')).length;
/** The record's text: its shards, in name order. */
const recordText = () => {
  const d = join(ctx.pondDir, "control/verified-payloads");
  return readdirSync(d)
    .sort()
    .map((n) => readFileSync(join(d, n), "utf8"))
    .join("");
};
/** The hashes the record holds a line for (skipping a torn line). */
const recorded = () =>
  recordText()
    .split("\n")
    .filter((l) => /^[0-9a-f]{64} /.test(l))
    .map((l) => l.slice(0, 64));
const payloadExists = (sha: string) => existsSync(join(ctx.pondDir, "data/_large_files", `sha256=${sha}`));

test("after merge and full cleanup the record names only payloads still on disk; queries answer and hash nothing", async () => {
  const P = { pond: ctx.pondDir };
  const [head, ...rows] = readFileSync(SEATTLE, "utf8").trimEnd().split("\n");
  for (let i = 0; i < 8; i++) {
    const file = join(ctx.dir, `w${i}.csv`);
    writeFileSync(file, [head, ...rows.slice(i * 100, (i + 1) * 100)].join("\n") + "\n");
    await pondOk(["copy", `host+series+csv://${file}`, "/w.series"], P);
  }
  const sql = ["query", "SELECT count(*) AS n, round(sum(precipitation), 3) AS p, max(date) AS d FROM '/w.series'", "--format", "csv"];
  const before = (await pondOk(sql, P)).stdout;
  const old = recorded();
  expect(old.length).toBeGreaterThanOrEqual(8);
  expect(old.every(payloadExists)).toBe(true);

  // A dry run leaves the record as it is.
  const text = recordText();
  await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s", "--dry-run"], P);
  expect(recordText()).toBe(text);

  await pondOk(["maintain", "merge"], P);
  await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
  const gone = old.filter((s) => !payloadExists(s));
  expect(gone.length).toBeGreaterThanOrEqual(7); // the merged versions' own payloads
  const after = recorded();
  expect(after.filter((s) => !payloadExists(s))).toEqual([]);
  expect(new Set(after).size).toBe(after.length);

  const first = await pond(sql, { ...P, env: DEBUG });
  expect({ code: first.code, stdout: first.stdout }).toEqual({ code: 0, stdout: before });
  expect(hashed(first.stderr)).toBe(0);
  expect((await pondOk(sql, P)).stdout).toBe(before);
}, 60_000);

test("a record of the build before (one file, control/verified-payloads.txt) is honoured by reads and split into shards by the first write", async () => {
  const t = await newPond();
  try {
    const P = { pond: t.pondDir };
    const [head, ...rows] = readFileSync(SEATTLE, "utf8").trimEnd().split("\n");
    for (let i = 0; i < 3; i++) {
      const file = join(t.dir, `l${i}.csv`);
      writeFileSync(file, [head, ...rows.slice(i * 100, (i + 1) * 100)].join("\n") + "\n");
      await pondOk(["copy", `host+series+csv://${file}`, "/l.series"], P);
    }
    const sql = ["query", "SELECT count(*) AS n FROM '/l.series'", "--format", "csv"];
    await pondOk(sql, P);
    // The shards, put back together as the build before kept them.
    const dir = join(t.pondDir, "control/verified-payloads");
    const legacy = join(t.pondDir, "control/verified-payloads.txt");
    const text = readdirSync(dir)
      .map((n) => readFileSync(join(dir, n), "utf8"))
      .join("");
    expect(text.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(3);
    rmSync(dir, { recursive: true });
    writeFileSync(legacy, text);
    // Every payload is listed with its current identity: nothing is hashed, nothing written.
    const r = await pond(sql, { ...P, env: DEBUG });
    expect({ code: r.code, stdout: r.stdout, hashed: hashed(r.stderr) }).toEqual({ code: 0, stdout: "n\n300\n", hashed: 0 });
    expect([existsSync(legacy), existsSync(dir)]).toEqual([true, false]);
    // A payload changed in place (chmod moves its ctime) is hashed again, and that record splits the file.
    const payloads = readdirSync(join(t.pondDir, "data/_large_files")).filter((n) => n.startsWith("sha256="));
    const changed = join(t.pondDir, "data/_large_files", payloads[0]!);
    chmodSync(changed, 0o600);
    chmodSync(changed, 0o644);
    const again = await pond(sql, { ...P, env: DEBUG });
    expect({ code: again.code, hashed: hashed(again.stderr) }).toEqual({ code: 0, hashed: 1 });
    expect([existsSync(legacy), readdirSync(dir).length > 0]).toEqual([false, true]);
    expect(hashed((await pond(sql, { ...P, env: DEBUG })).stderr)).toBe(0);
  } finally {
    t.cleanup();
  }
}, 60_000);
