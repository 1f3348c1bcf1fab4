// A damaged or half-written control file is a clear error naming the file and the fix,
// never "this is a bug"; control files are replaced atomically (no temp file left).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
beforeEach(async () => {
  ctx = await newPond();
});
afterEach(() => ctx.cleanup());

for (const [what, text] of [
  ["empty", ""],
  ["torn", '{"pondId": "0193'],
  ["not an identity", '{"hello": 1}'],
] as const) {
  test(`an ${what} control/pond.json: every command exits 4 naming the file and how to rebuild it`, async () => {
    const f = join(ctx.pondDir, "control", "pond.json");
    const good = readFileSync(f, "utf8");
    writeFileSync(f, text);
    for (const args of [["list"], ["log"], ["status"]]) {
      const r = await pond(args, { pond: ctx.pondDir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toContain("metaData");
      expect(r.stderr).not.toContain("bug");
    }
    writeFileSync(f, good);
    await pondOk(["list"], { pond: ctx.pondDir });
  });
}

test("a damaged control/remotes.json is named with the fix; a good one is rewritten with no temp file left", async () => {
  const o = { pond: ctx.pondDir };
  await pondOk(["remote", "add", "b", `file://${join(ctx.dir, "remote")}`], o);
  const f = join(ctx.pondDir, "control", "remotes.json");
  expect(readdirSync(join(ctx.pondDir, "control")).filter((n) => n.includes("tmp"))).toEqual([]);
  const good = readFileSync(f, "utf8");
  writeFileSync(f, good.slice(0, 20));
  const r = await pond(["remote", "list"], o);
  expect(r.code).toBe(4);
  expect(r.stderr).toContain(f);
  expect(r.stderr).toContain("pond remote add");
  expect(r.stderr).not.toContain("bug");
  writeFileSync(f, good);
  expect((await pondOk(["remote", "list"], o)).stdout).toContain("b");
});

test("a damaged control/expiry.json is named with the fix (exit 4, not a bug); a good one is rewritten with no temp file left", async () => {
  const o = { pond: ctx.pondDir };
  for (const n of [1, 2, 3]) await pondOk(["mkdir", `/d${n}`], o);
  await pondOk(["maintain", "expire", "--keep-last", "2"], o);
  const control = join(ctx.pondDir, "control");
  const f = join(control, "expiry.json");
  expect(readdirSync(control).filter((n) => n.includes("tmp"))).toEqual([]);
  const good = readFileSync(f, "utf8");
  expect(JSON.parse(good).horizon).toBeGreaterThan(0);
  for (const text of ["", good.slice(0, 10), '{"horizon": "x", "history": []}']) {
    writeFileSync(f, text);
    for (const args of [
      ["maintain", "snapshots"],
      ["list", "--as-of", "1"],
    ]) {
      const r = await pond(args, o);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toContain('"horizon"');
      expect(r.stderr).not.toContain("bug");
    }
  }
  writeFileSync(f, good);
  expect((await pondOk(["maintain", "snapshots"], o)).stdout).not.toBe("");
});

test("a damaged control/config.json is named with the fix; `pond config set` rewrites it with no temp file left", async () => {
  const o = { pond: ctx.pondDir };
  await pondOk(["config", "set", "maintain.retention", "3d"], o);
  const control = join(ctx.pondDir, "control");
  const f = join(control, "config.json");
  expect(readdirSync(control).filter((n) => n.includes("tmp"))).toEqual([]);
  const good = readFileSync(f, "utf8");
  for (const text of ["", good.slice(0, 10), '["maintain.retention"]']) {
    writeFileSync(f, text);
    const r = await pond(["config"], o);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toContain("pond config set");
    expect(r.stderr).not.toContain("bug");
  }
  writeFileSync(f, good);
  expect((await pondOk(["config"], o)).stdout).toContain("3d");
});
