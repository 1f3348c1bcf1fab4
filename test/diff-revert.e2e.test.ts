// Issue 13: pond diff (paths and --rows) and pond revert, through the real binary.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let t: Awaited<ReturnType<typeof newPond>>;
const ok = (args: string[]) => pondOk(args, { pond: t.pondDir });
const run = (args: string[]) => pond(args, { pond: t.pondDir });
const seq = () => latestLogVersion(t.pondDir);

function hostFile(name: string, text: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, text);
  return p;
}

async function refused(args: string[], ...names: string[]): Promise<void> {
  const before = await seq();
  const r = await run(args);
  expect(r.code).not.toBe(0);
  for (const n of names) expect(r.stderr).toContain(n);
  expect(r.stderr).not.toContain("this is a bug");
  expect(await seq()).toBe(before);
}

/** Every path with its newest content (files), as the pond shows it now. */
async function state(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of (await ok(["list"])).stdout.split("\n").filter(Boolean)) {
    const d = JSON.parse((await ok(["describe", p, "--format", "json"])).stdout);
    out[p] = d.type === "directory" ? "dir" : (await ok(["cat", p])).stdout;
  }
  return out;
}

beforeEach(async () => {
  t = await newPond();
  await ok(["mkdir", "-p", "/a/b"]);
  await ok(["copy", `host://${hostFile("x", "X1")}`, "/a/b/x"]);
  await ok(["copy", `host://${hostFile("y", "Y1")}`, "/a/y"]);
});
afterEach(() => t.cleanup());

describe("pond diff", () => {
  test("lists created, changed, removed and moved paths between two transactions, as text and JSON", async () => {
    const base = await seq();
    await ok(["copy", `host://${hostFile("y2", "Y22")}`, "/a/y"]);
    await ok(["rm", "/a/b/x"]);
    await ok(["mv", "/a/b", "/c"]);
    await ok(["copy", `host://${hostFile("z", "Z")}`, "/z"]);
    const text = (await ok(["diff", String(base)])).stdout.split("\n").filter(Boolean);
    expect(text).toEqual([
      "removed  /a/b/x (file:data v1, 2 bytes)",
      "changed  /a/y (file:data v1 -> v2, 2 -> 3 bytes)",
      "moved    /a/b -> /c (directory)",
      "created  /z (file:data v1, 1 bytes)",
    ]);
    const json = JSON.parse((await ok(["diff", String(base), String(base + 3), "--format", "json"])).stdout);
    expect(json.map((c: { change: string; path: string }) => `${c.change} ${c.path}`)).toEqual(["removed /a/b/x", "changed /a/y", "moved /c"]);
    expect(json[2].from_path).toBe("/a/b");
    expect((await ok(["diff", String(base), String(base)])).stdout).toBe("");
  });

  test("--rows gives a table's inserted and deleted rows and a series' added versions, with change_type", async () => {
    await ok(["copy", `host+csv://${hostFile("t1.csv", "k,v\n1,a\n2,b\n")}`, "/t.table"]);
    await ok(["copy", `host+series+csv://${hostFile("s1.csv", "timestamp,v\n2025-01-01T00:00:00Z,1\n2025-01-02T00:00:00Z,2\n")}`, "/s.series"]);
    const base = await seq();
    await ok(["copy", `host+csv://${hostFile("t2.csv", "k,v\n1,a\n3,c\n")}`, "/t.table"]);
    await ok(["copy", `host+series+csv://${hostFile("s2.csv", "timestamp,v\n2025-01-03T00:00:00Z,3\n")}`, "/s.series"]);
    expect((await ok(["diff", "--rows", String(base), "/t.table", "--format", "csv"])).stdout).toBe("change_type,k,v\ninsert,3,c\ndelete,2,b\n");
    expect((await ok(["diff", "--rows", String(base), "/s.series", "--format", "csv"])).stdout).toBe(
      "change_type,timestamp,v\ninsert,2025-01-03 00:00:00+00,3\n",
    );
    expect((await ok(["diff", "--rows", String(base), String(base), "/s.series", "--format", "csv"])).stdout).toBe("change_type,timestamp,v\n");
    expect((await ok(["diff", "--rows", String(base - 2), "/t.table", "--format", "csv"])).stdout).toBe("change_type,k,v\ninsert,1,a\ninsert,3,c\n");
  });

  test("bad input: a sequence that does not exist, a path at neither, too many arguments", async () => {
    await refused(["diff", "99"], "99");
    await refused(["diff", "--rows", "1", "/nope.table"], '"/nope.table"');
    await refused(["diff", "1", "2", "3"], "SEQ1 [SEQ2]");
    await refused(["diff", "--rows", "1", "/a/y"], '"/a/y"', "file:data");
    // Versions written as PATH@N are no sequences (Date.parse took "/a/t.table@1" as the year 2001).
    await refused(["diff", "--rows", "/a/t.table@1", "/a/t.table@2", "/a/t.table"], '"/a/t.table@1" is not a transaction sequence');
    await refused(["diff", "--rows", "1", "/a/t.table@2", "/a/t.table"], '"/a/t.table@2" is not a transaction sequence');
  });
});

describe("pond revert", () => {
  test("restores the whole pond as it was, in one new transaction; the revert of the revert brings the later state back", async () => {
    const base = await seq();
    const then = await state();
    await ok(["copy", `host://${hostFile("y2", "Y2")}`, "/a/y"]);
    await ok(["rm", "-r", "/a/b"]);
    await ok(["copy", `host://${hostFile("n", "N")}`, "/new"]);
    const later = await state();
    const xId = JSON.parse((await ok(["describe", "/a/b/x", "--format", "json", "--as-of", String(base)])).stdout).node_id;
    const dry = (await ok(["revert", String(base), "--dry-run"])).stdout;
    expect(dry).toContain("removed  /new");
    expect(await seq()).toBe(base + 3);
    await ok(["revert", String(base)]);
    expect(await seq()).toBe(base + 4);
    expect(await state()).toEqual(then);
    expect(JSON.parse((await ok(["describe", "/a/b/x", "--format", "json"])).stdout).node_id).toBe(xId);
    expect((await ok(["log", "-n", "1"])).stdout).toContain(`revert to ${base}`);
    await ok(["revert", String(base + 3)]);
    expect(await state()).toEqual(later);
    expect((await ok(["cat", "/a/y", "--version", "1"])).stdout).toBe("Y1");
  });

  test("with paths, reverts only those; nothing to revert writes nothing", async () => {
    const base = await seq();
    await ok(["copy", `host://${hostFile("y2", "Y2")}`, "/a/y"]);
    await ok(["rm", "/a/b/x"]);
    await ok(["revert", String(base), "/a/b/x"]);
    expect((await ok(["cat", "/a/b/x"])).stdout).toBe("X1");
    expect((await ok(["cat", "/a/y"])).stdout).toBe("Y2");
    const now = await seq();
    await ok(["revert", String(base), "/a/b/x"]);
    expect(await seq()).toBe(now);
  });

  test("bad input: a sequence that does not exist, a path at neither", async () => {
    await refused(["revert", "99"], "99");
    await refused(["revert", "1", "/never"], '"/never"');
  });
});
