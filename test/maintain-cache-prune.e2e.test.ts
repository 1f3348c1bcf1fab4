// Issue 15: `pond maintain cleanup` prunes the derived caches under control/ (row cache,
// series summaries, directory cache) of records for entry files it deleted. A collector's
// series (library appends with automatic maintenance, as bench/collector.bench.ts grows one),
// read through bin/pond part way so the caches fill, appended to further (its entry files
// merged), then expired and cleaned: the dry run changes no byte and names what the real run
// does; afterwards no cache record names a file not on disk and the records of files still
// there are kept; every answer of the newest snapshot (the harness's `observe`: list -l,
// query, describe, cat, cat --version of every version; and every version's bytes through
// the library) equals that of a copy taken before.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Pond, walk } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { fileDirCache, fileRowCache, isSeriesCacheFile } from "@pond/tlogfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { observe, readSnapshot } from "./support/maintain-harness.ts";
import { pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-cache-");
});
afterAll(() => tmp?.cleanup());

const T0 = Date.UTC(2025, 0, 1);
const VERSIONS = 110;

/** path → sha256:size:mtime of every file under `dir`, and every folder. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    const st = statSync(full);
    out[full.slice(dir.length)] = e.isFile() ? `${new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex")}:${st.size}:${st.mtimeMs}` : "dir";
  }
  return out;
}

/** Entry file paths each derived cache holds records of. */
function cachedEntryFiles(pondDir: string, table: string): { rows: Set<string>; summaries: Set<string>; dirs: Set<string> } {
  const control = join(pondDir, "control");
  const rowDir = join(control, "row-cache");
  const rows = new Set<string>();
  const summaries = new Set<string>();
  for (const n of existsSync(rowDir) ? readdirSync(rowDir) : []) {
    const j = JSON.parse(
      readFileSync(join(rowDir, n), "utf8")
        .split("\n")
        .find((l) => l !== "")!,
    ) as { part: string; entryFiles?: string[] };
    if (isSeriesCacheFile(n)) for (const f of j.entryFiles ?? []) summaries.add(f);
    else for (const f of fileRowCache(rowDir, table).load(j.part).files.keys()) rows.add(f);
  }
  const dirs = new Set(fileDirCache(join(control, "dir-cache.json"), table).load().rows.paths());
  return { rows, summaries, dirs };
}

test("cleanup prunes cache records of the entry files it deleted, keeps the others, and answers stay the same", async () => {
  const P = { pond: join(tmp.dir, "p") };
  await pondOk(["init"], P);
  const control = join(P.pond, "control");
  const caches = ["row-cache", "dir-cache.json", "dir-cache.jsonl"];
  const saved = join(tmp.dir, "caches");
  const duck = await openDuckDB();
  try {
    const file = async (i: number) => {
      const f = join(tmp.dir, `v${i}.parquet`);
      await duck.run(
        `COPY (SELECT make_timestamptz(${(T0 + i * 60_000) * 1000}::BIGINT + j * 6000000) AS timestamp, ${i} + j / 10 AS v FROM range(10) t(j)) TO '${f}' (FORMAT parquet)`,
      );
      return f;
    };
    await pondOk(["copy", `host+series://${await file(0)}`, "/data/lake.series", "-p"], P);
    const pond = Pond.open(P.pond);
    const attrs = (await new WD(await pond.view()).stat("/data/lake.series")).versions!.at(-1)!.attributes;
    for (let i = 1; i < VERSIONS; i++) {
      if (i === 60) {
        // Read through bin/pond here; keep the caches as those reads left them: a process
        // that read here and never again (older caches are valid: entry files never change).
        await observe(P, (await Pond.open(P.pond).view()).seq, { files: true });
        for (const c of caches) if (existsSync(join(control, c))) cpSync(join(control, c), join(saved, c), { recursive: true });
      }
      const f = await file(i);
      const bytes = new Uint8Array(await Bun.file(f).arrayBuffer());
      const min = BigInt(T0 + i * 60_000) * 1000n;
      await pond.write(["pond", "copy", `host+series://${f}`, "/data/lake.series"], async ({ txn }) => {
        await new WD(txn).createFile("/data/lake.series", "file:series", bytes, {
          minEventTime: min,
          maxEventTime: min + 54_000_000n,
          attributes: { ...attrs, source_sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex") },
        });
      });
    }
  } finally {
    duck.close?.();
  }
  for (const c of caches) rmSync(join(control, c), { recursive: true, force: true });
  for (const c of caches) if (existsSync(join(saved, c))) cpSync(join(saved, c), join(control, c), { recursive: true });
  const seq = (await Pond.open(P.pond).view()).seq;
  // The answers before, from a copy (reading the pond itself would refresh its caches).
  const copy = { pond: join(tmp.dir, "copy") };
  cpSync(P.pond, copy.pond, { recursive: true });
  const before = { cli: await observe(copy, seq, { files: true, catVersions: true }), lib: [...(await readSnapshot(copy.pond, seq))] };
  expect(before.lib.length).toBe(VERSIONS);

  await pondOk(["maintain", "expire", "--keep-last", "1"], P);
  await pondOk(["maintain", "checkpoint"], P);
  const table = Pond.open(P.pond).identity.pondId;
  const was = cachedEntryFiles(P.pond, table);
  const wasOnDisk = new Set(walk(join(P.pond, "data")).map((f) => f.key));
  const tree = hashTree(P.pond);
  type Out = { steps: { step: string; files: number; bytes: number; detail: string; items: { key: string; size: number }[] }[] };
  const dry = JSON.parse((await pondOk(["maintain", "cleanup", "--retention", "0s", "--dry-run", "--format", "json"], P)).stdout) as Out;
  expect(hashTree(P.pond)).toEqual(tree);
  const done = JSON.parse((await pondOk(["maintain", "cleanup", "--retention", "0s", "--format", "json"], P)).stdout) as Out;
  const items = (o: Out) => o.steps[0]!.items.map((i) => `${i.key} ${i.size}`);
  expect(items(dry)).toEqual(items(done));
  const step = done.steps[0]!;
  expect(step.detail).toMatch(/derived caches: \d+ record\(s\) of removed entry files pruned from \d+ file\(s\)/);
  expect(step.items.some((i) => i.key.startsWith("control/row-cache/"))).toBe(true);
  expect(step.bytes).toBe(step.items.reduce((s, i) => s + i.size, 0));

  const onDisk = new Set(walk(join(P.pond, "data")).map((f) => f.key));
  const deleted = [...wasOnDisk].filter((f) => f.startsWith("part_id=") && !onDisk.has(f));
  // The caches held records of files this cleanup deleted (else this proves nothing).
  expect(deleted.filter((f) => was.rows.has(f) || was.dirs.has(f)).length).toBeGreaterThan(0);
  const now = cachedEntryFiles(P.pond, table);
  for (const [what, set] of Object.entries(now)) for (const f of set) expect({ what, f, onDisk: onDisk.has(f) }).toEqual({ what, f, onDisk: true });
  for (const [what, set] of Object.entries(was))
    if (what !== "summaries") for (const f of set) if (onDisk.has(f)) expect({ what, f, kept: now[what as "rows"].has(f) }).toEqual({ what, f, kept: true });

  const after = { cli: await observe(P, seq, { files: true, catVersions: true }), lib: [...(await readSnapshot(P.pond, seq))] };
  expect(after).toEqual(before);
  expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
}, 240_000);
