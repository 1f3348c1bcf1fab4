// Issue 13's durability tests: a SIGKILL during `rm -r` and `mv` of a large tree leaves the old
// or the new state and nothing between; the data folder stays a valid Delta table after rm, mv,
// ln and revert (checked by a reader of the log written here, independent of oplog); and push /
// restore carry removes and moves to a new machine.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, pond, pondOk, tempDir } from "./support/pond-cli.ts";
import { startS3Server, type S3Server } from "./support/s3-server.ts";
import { seededRandom } from "./support/kit.ts";

const TREE_FILES = 1500;
let tmp: ReturnType<typeof tempDir>;
let n = 0;

beforeAll(() => {
  tmp = tempDir("pond-files-durability-");
});
afterAll(() => tmp?.cleanup());

/** A host folder `tree` of TREE_FILES small files in 30 subfolders. */
function hostTree(): string {
  const root = join(tmp.dir, `host-tree-${++n}`);
  for (let i = 0; i < TREE_FILES; i++) {
    const d = join(root, `d${i % 30}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`);
  }
  return root;
}

async function newPondDir(): Promise<string> {
  const dir = join(tmp.dir, `pond-${++n}`);
  await pondOk(["init"], { pond: dir });
  return dir;
}

/** The newest transaction's sequence, from `pond log`. */
const lastSeq = async (dir: string, env?: Record<string, string>): Promise<number> =>
  (JSON.parse((await pondOk(["log", "-n", "1", "--format", "json"], { pond: dir, env })).stdout) as { seq: number }[])[0].seq;

const listAll = async (dir: string): Promise<string[]> => (await pondOk(["list", "/**"], { pond: dir })).stdout.split("\n").filter(Boolean).sort();

/**
 * Checks the data folder as any Delta reader would, from the JSON commits alone: the first
 * commit's protocol (reader 1, writer 2) and metaData (a schemaString that parses, partition
 * columns); every later commit's file is NNNNNNNNNNNNNNNNNNNN.json with no gap; each remove
 * names a file that was live; each live add names a file that exists with its recorded size,
 * has a value for every partition column and stats that parse; and every entry file on disk
 * that the log keeps live is a Parquet file. Returns the number of live files.
 */
function checkDeltaTable(pondDir: string): number {
  const data = join(pondDir, "data");
  const logDir = join(data, "_delta_log");
  const commits = readdirSync(logDir)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .sort();
  expect(commits.length).toBeGreaterThan(0);
  for (const [i, f] of commits.entries()) expect(f).toBe(`${String(i).padStart(20, "0")}.json`);
  const live = new Map<string, number>();
  let partitionColumns: string[] = [];
  for (const [i, f] of commits.entries()) {
    const actions = readFileSync(join(logDir, f), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(actions.filter((a) => a.commitInfo).length).toBeLessThanOrEqual(1);
    if (i === 0) {
      const protocol = actions.find((a) => a.protocol)?.protocol;
      expect(protocol).toMatchObject({ minReaderVersion: 1, minWriterVersion: 2 });
      const meta = actions.find((a) => a.metaData)?.metaData as { schemaString: string; partitionColumns: string[] };
      expect(JSON.parse(meta.schemaString).type).toBe("struct");
      partitionColumns = meta.partitionColumns;
      expect(Array.isArray(partitionColumns)).toBe(true);
    }
    for (const a of actions) {
      if (a.remove) {
        const p = decodeURIComponent(String(a.remove.path));
        expect({ commit: f, removed: p, wasLive: live.has(p) }).toEqual({ commit: f, removed: p, wasLive: true });
        live.delete(p);
      }
      if (a.add) {
        const p = decodeURIComponent(String(a.add.path));
        const pv = a.add.partitionValues as Record<string, string>;
        expect(Object.keys(pv).sort()).toEqual([...partitionColumns].sort());
        expect(typeof a.add.modificationTime).toBe("number");
        expect(typeof a.add.dataChange).toBe("boolean");
        expect(JSON.parse(String(a.add.stats)).numRecords).toBeGreaterThanOrEqual(0);
        live.set(p, Number(a.add.size));
      }
    }
  }
  for (const [p, size] of live) {
    const f = join(data, p);
    expect({ path: p, exists: existsSync(f) }).toEqual({ path: p, exists: true });
    expect({ path: p, size: statSync(f).size }).toEqual({ path: p, size });
    const bytes = readFileSync(f);
    expect(bytes.subarray(0, 4).toString()).toBe("PAR1");
    expect(bytes.subarray(bytes.length - 4).toString()).toBe("PAR1");
  }
  return live.size;
}

describe("a killed rm -r or mv leaves the old or the new state", () => {
  for (const op of ["rm", "mv"] as const) {
    test(`SIGKILL of \`pond ${op}\` of a ${TREE_FILES}-file tree at random moments`, async () => {
      const dir = await newPondDir();
      const o = { pond: dir };
      await pondOk(["copy", `host://${hostTree()}`, "/tree"], o);
      await pondOk(["mkdir", "/other"], o);
      const args = op === "rm" ? ["rm", "-r", "/tree"] : ["mv", "/tree", "/other/moved"];
      const oldState = await listAll(dir);
      expect(oldState.filter((p) => p.endsWith(".txt")).length).toBe(TREE_FILES);
      const newState =
        op === "rm"
          ? oldState.filter((p) => p !== "/tree" && !p.startsWith("/tree/"))
          : oldState.map((p) => (p === "/tree" || p.startsWith("/tree/") ? `/other/moved${p.slice(5)}` : p)).sort();
      // How long the command takes uninterrupted, on a copy of the same pond state.
      const probe = await newPondDir();
      await pondOk(["copy", `host://${hostTree()}`, "/tree"], { pond: probe });
      await pondOk(["mkdir", "/other"], { pond: probe });
      const t0 = performance.now();
      await pondOk(args, { pond: probe });
      const full = performance.now() - t0;
      let olds = 0;
      let news = 0;
      const base = await lastSeq(dir);
      const moments = seededRandom(`kill moments of ${args.join(" ")}`);
      for (let i = 0; i < 10; i++) {
        // A kill that came too late finished the command: go back with revert, and check that too.
        if ((await listAll(dir)).join("\n") === newState.join("\n")) {
          await pondOk(["revert", String(base)], o);
          expect(await listAll(dir)).toEqual(oldState);
        }
        const proc = Bun.spawn([POND_BIN, ...args], { env: { ...process.env, POND: dir }, stdout: "ignore", stderr: "ignore" });
        await Bun.sleep(moments.next() * full * 1.2);
        proc.kill("SIGKILL");
        await proc.exited;
        await pondOk(["recover"], o);
        const after = await listAll(dir);
        const which = after.join("\n") === oldState.join("\n") ? "old" : after.join("\n") === newState.join("\n") ? "new" : "between";
        expect(which).not.toBe("between");
        if (which === "old") olds++;
        else news++;
        checkDeltaTable(dir);
      }
      // Whatever the kills left, finishing the command gives the new state, with every file intact.
      if ((await listAll(dir)).join("\n") !== newState.join("\n")) await pondOk(args, o);
      expect(await listAll(dir)).toEqual(newState);
      if (op === "mv") {
        expect((await pondOk(["cat", "/other/moved/d7/f7.txt"], o)).stdout).toBe("file 7\n");
        expect((await pondOk(["cat", `/other/moved/d29/f${TREE_FILES - 1}.txt`], o)).stdout).toBe(`file ${TREE_FILES - 1}\n`);
      }
      expect((await pond(["fsck"], o)).code).toBe(0);
      console.log(`${op} kill test: ${olds} old, ${news} new (uninterrupted ${full.toFixed(0)} ms)`);
    }, 300_000);
  }
});

describe("the data folder stays a valid Delta table", () => {
  test("after rm, mv, ln -s, revert and revert of the revert", async () => {
    const dir = await newPondDir();
    const o = { pond: dir };
    const h = join(tmp.dir, "delta-host");
    mkdirSync(h, { recursive: true });
    writeFileSync(join(h, "t.csv"), "timestamp,v\n2025-01-01T00:00:00Z,1\n2025-01-02T00:00:00Z,2\n");
    writeFileSync(join(h, "a.txt"), "A");
    await pondOk(["mkdir", "-p", "/raw/x", "/keep"], o);
    await pondOk(["copy", `host+series+csv://${join(h, "t.csv")}`, "/raw/t.series"], o);
    await pondOk(["copy", `host://${join(h, "a.txt")}`, "/raw/x/a.txt"], o);
    const base = await lastSeq(dir);
    checkDeltaTable(dir);
    await pondOk(["ln", "-s", "/raw/x/a.txt", "/keep/link"], o);
    await pondOk(["mv", "/raw/x", "/keep/x"], o);
    await pondOk(["rm", "/raw/t.series"], o);
    checkDeltaTable(dir);
    expect((await pondOk(["cat", "/keep/x/a.txt"], o)).stdout).toBe("A");
    await pondOk(["revert", String(base)], o);
    checkDeltaTable(dir);
    expect(await listAll(dir)).toEqual(["/keep", "/raw", "/raw/t.series", "/raw/x", "/raw/x/a.txt"]);
    const reverted = await lastSeq(dir);
    await pondOk(["revert", String(reverted - 1)], o);
    expect(checkDeltaTable(dir)).toBeGreaterThan(0);
    expect(await listAll(dir)).toEqual(["/keep", "/keep/link", "/keep/x", "/keep/x/a.txt", "/raw"]);
  }, 120_000);
});

describe("push and restore carry removes and moves", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  }, 60_000);
  afterAll(async () => {
    await s3?.close();
  });

  test("a restored pond has the same tree and the same history, removed files readable --as-of", async () => {
    const env = s3.env;
    const dir = await newPondDir();
    const o = { pond: dir, env };
    const h = join(tmp.dir, "push-host");
    mkdirSync(join(h, "in"), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(h, "in", `f${i}.txt`), `payload ${i}\n`.repeat(i === 3 ? 20_000 : 1));
    await pondOk(["copy", `host://${join(h, "in")}`, "/in"], o);
    await pondOk(["remote", "add", "backup", "s3://pond-test/files", "--endpoint", s3.endpoint], o);
    await pondOk(["push", "backup"], o);
    const beforeChanges = await lastSeq(dir, env);
    await pondOk(["mkdir", "/archive"], o);
    await pondOk(["mv", "/in/f3.txt", "/in/f4.txt", "/archive/"], o);
    await pondOk(["rm", "/in/f1*.txt"], o);
    await pondOk(["mv", "/in", "/moved"], o);
    await pondOk(["push", "backup"], o);
    const copy = join(tmp.dir, `restored-${++n}`);
    await pondOk(["restore", "s3://pond-test/files", "--endpoint", s3.endpoint], { pond: copy, env });
    const c = { pond: copy, env };
    expect(await listAll(copy)).toEqual(await listAll(dir));
    expect(await listAll(copy)).toContain("/archive/f3.txt");
    expect((await listAll(copy)).some((p) => p.startsWith("/in"))).toBe(false);
    expect((await listAll(copy)).filter((p) => p.startsWith("/moved/f1"))).toEqual([]);
    expect((await listAll(copy)).filter((p) => p.startsWith("/moved/")).length).toBe(20 - 2 - 11);
    expect((await pondOk(["cat", "/archive/f3.txt"], c)).stdout).toBe("payload 3\n".repeat(20_000));
    expect((await pondOk(["cat", "/in/f12.txt", "--as-of", String(beforeChanges)], c)).stdout).toBe("payload 12\n");
    for (const args of [
      ["log", "--format", "json"],
      ["list", "/**", "--as-of", String(beforeChanges)],
      ["describe", "/archive/f4.txt"],
    ])
      expect((await pondOk(args, c)).stdout).toBe((await pondOk(args, o)).stdout);
    checkDeltaTable(copy);
    expect((await pond(["verify", "backup", "--deep"], o)).code).toBe(0);
  }, 180_000);
});
