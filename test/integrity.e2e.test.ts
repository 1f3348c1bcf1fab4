// A read never returns damaged bytes as if they were good (issue 11): one byte of a
// series payload, a table payload or a large data file is flipped on disk, and every
// read path through bin/pond fails with exit 4 naming the pond path, the version and
// the payload, with nothing on stdout and nothing left on the host; restored, it reads
// again; and an unchanged verified payload is not hashed again.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
const P = (env: Record<string, string> = {}) => ({ pond: ctx.pondDir, env });

beforeAll(async () => {
  ctx = await newPond();
  const v1 = join(ctx.dir, "v1.csv"),
    v2 = join(ctx.dir, "v2.csv"),
    t = join(ctx.dir, "t.csv");
  writeFileSync(v1, "timestamp,v\n" + Array.from({ length: 200 }, (_, i) => `2024-01-01 00:${String(i % 60).padStart(2, "0")}:00,${i}`).join("\n") + "\n");
  writeFileSync(v2, "timestamp,v\n" + Array.from({ length: 200 }, (_, i) => `2024-01-02 00:${String(i % 60).padStart(2, "0")}:00,${i * 2}`).join("\n") + "\n");
  writeFileSync(t, "site,depth\n" + Array.from({ length: 300 }, (_, i) => `s${i},${i / 10}`).join("\n") + "\n");
  writeFileSync(
    join(ctx.dir, "big.bin"),
    new Uint8Array(300_000).map((_, i) => (i * 7) & 255),
  );
  await pondOk(["copy", `host+series+csv://${v1}`, "/s.series"], P());
  await pondOk(["copy", `host+series+csv://${v2}`, "/s.series"], P());
  await pondOk(["copy", `host+csv://${t}`, "/t.table"], P());
  await pondOk(["copy", `host://${join(ctx.dir, "big.bin")}`, "/big.bin"], P());
});
afterAll(() => ctx.cleanup());

async function payloadOf(path: string, version: number): Promise<string> {
  const d = JSON.parse((await pondOk(["describe", path, "--format", "json"], P())).stdout) as { versions: { version: number; sha256: string }[] };
  return join(ctx.pondDir, "data", "_large_files", `sha256=${d.versions.find((v) => v.version === version)!.sha256}`);
}

/** Flips one bit of byte `at` (negative: from the end) in place (same size, new mtime/ctime), returning the undo. */
function flipByte(file: string, where: number): () => void {
  const bytes = readFileSync(file);
  const at = where < 0 ? bytes.length + where : where;
  if (at < 0 || at >= bytes.length) throw new Error(`${file} has ${bytes.length} bytes, no byte ${where}`);
  const good = bytes[at]!;
  bytes[at] = good ^ 1;
  writeFileSync(file, bytes);
  return () => {
    const b = readFileSync(file);
    b[at] = good;
    writeFileSync(file, b);
  };
}

/** How many payloads a command hashed in full (the checker's debug event). */
function hashed(stderr: string): number {
  return stderr.split("\n").filter((l) => l.includes('"payload_hashed"')).length;
}
const DEBUG = { POND_LOG: "debug", POND_LOG_FORMAT: "json" };

function expectIntegrity(r: { code: number; stdout: string; stderr: string }, path: string, version: number, payload: string): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 4, stdout: "" });
  expect(r.stderr).toContain(`"${path}" version ${version}`);
  expect(r.stderr).toContain(payload.slice(payload.lastIndexOf("/") + 1));
}

describe("a damaged payload is never read as good", () => {
  test("a series payload: query, cat, cat --sql, --time ranges and copy out exit 4; restored, they read again", async () => {
    const payload = await payloadOf("/s.series", 2);
    const before = (await pondOk(["query", "SELECT sum(v) AS s FROM '/s.series'", "--format", "csv"], P())).stdout;
    const undo = flipByte(payload, -200);
    try {
      const out = join(ctx.dir, "out-series");
      const runs = [
        ["query", "SELECT sum(v) AS s FROM '/s.series'"],
        ["query", "SELECT count(*) FROM '/*.series'"],
        ["cat", "/s.series"],
        ["cat", "/s.series", "--sql", "SELECT sum(v) FROM source"],
        ["cat", "/s.series", "--version", "2", "--format", "parquet"],
        ["cat", "/s.series", "--time-start", "2024-01-02", "--sql", "SELECT count(*) FROM source"],
      ];
      for (const args of runs) expectIntegrity(await pond(args, P()), "/s.series", 2, payload);
      expectIntegrity(await pond(["copy", "/s.series", `host://${out}`], P()), "/s.series", 2, payload);
      expect(existsSync(out)).toBe(false);
      // Version 1 alone is not damaged, and a range that skips version 2 never reads it.
      expect((await pond(["cat", "/s.series", "--time-end", "2024-01-02", "--sql", "SELECT count(*) AS n FROM source", "--format", "csv"], P())).stdout).toBe(
        "n\n200\n",
      );
    } finally {
      undo();
    }
    expect((await pondOk(["query", "SELECT sum(v) AS s FROM '/s.series'", "--format", "csv"], P())).stdout).toBe(before);
  });

  test("a table payload: query, cat (read without DuckDB), cat --sql and copy out exit 4", async () => {
    const payload = await payloadOf("/t.table", 1);
    const undo = flipByte(payload, -300);
    try {
      for (const args of [
        ["query", "SELECT * FROM '/t.table'"],
        ["cat", "/t.table"],
        ["cat", "/t.table", "--sql", "SELECT count(*) FROM source"],
        ["cat", "/t.table", "--format", "parquet"],
      ]) {
        expectIntegrity(await pond(args, P()), "/t.table", 1, payload);
      }
      const out = join(ctx.dir, "out-table");
      expectIntegrity(await pond(["copy", "/t.table", `host://${out}`], P()), "/t.table", 1, payload);
      expect(existsSync(out)).toBe(false);
    } finally {
      undo();
    }
    expect((await pondOk(["cat", "/t.table", "--sql", "SELECT count(*) AS n FROM source", "--format", "csv"], P())).stdout).toBe("n\n300\n");
  });

  test("a large data file: cat writes nothing, copy out of several files leaves no host file, push uploads none of it", async () => {
    const payload = await payloadOf("/big.bin", 1);
    const undo = flipByte(payload, 299_000); // near the end: a streaming check would already have written the rest
    const out = join(ctx.dir, "out-big");
    const remote = join(ctx.dir, "remote");
    try {
      const r = await pond(["cat", "/big.bin"], P());
      expectIntegrity({ ...r, stdout: String(r.stdoutBytes.length || "") }, "/big.bin", 1, payload);
      // The table copies fine alone; together with the damaged file nothing is written.
      expectIntegrity(await pond(["copy", "/t.table", "/big.bin", `host://${out}`], P()), "/big.bin", 1, payload);
      expect(existsSync(out)).toBe(false);
      await pondOk(["remote", "add", "bk", `file://${remote}`], P());
      expectIntegrity(await pond(["push", "bk"], P()), "/big.bin", 1, payload);
      expect(existsSync(join(remote, "_large_files", payload.slice(payload.lastIndexOf("/") + 1)))).toBe(false);
      expect(readdirSync(remote).filter((n) => n === "_delta_log")).toEqual([]); // no commit was published
    } finally {
      undo();
    }
    expect(new Uint8Array(readFileSync(join(ctx.dir, "big.bin")))).toEqual(new Uint8Array((await pondOk(["cat", "/big.bin"], P())).stdoutBytes));
    await pondOk(["copy", "/big.bin", `host://${out}`], P());
    expect(readFileSync(join(out, "big.bin")).equals(readFileSync(join(ctx.dir, "big.bin")))).toBe(true);
    expect(readdirSync(out).filter((n) => n.startsWith(".pond-copy-"))).toEqual([]);
    await pondOk(["push", "bk"], P());
  });

  test("a payload deleted or unreadable is an integrity error, not `Check the SQL`", async () => {
    const payload = await payloadOf("/s.series", 1);
    const bytes = readFileSync(payload);
    writeFileSync(payload, bytes.subarray(0, 100)); // truncated
    try {
      const r = await pond(["query", "SELECT count(*) FROM '/s.series'"], P());
      expectIntegrity(r, "/s.series", 1, payload);
      expect(r.stderr).not.toContain("Check the SQL");
    } finally {
      writeFileSync(payload, bytes);
    }
  });
});

describe("each payload is hashed once", () => {
  // A pond of its own (made by the first test): the tests above changed the shared one's payloads.
  const freshPond = async () => {
    ctx.cleanup();
    ctx = await newPond();
    for (const [i, day] of ["2024-01-01", "2024-01-02"].entries()) {
      const f = join(ctx.dir, `h${i}.csv`);
      writeFileSync(f, "timestamp,v\n" + Array.from({ length: 200 }, (_, j) => `${day} 00:${String(j % 60).padStart(2, "0")}:00,${j}`).join("\n") + "\n");
      await pondOk(["copy", `host+series+csv://${f}`, "/s.series"], P());
    }
    await pondOk(["copy", `host+csv://${join(ctx.dir, "h0.csv")}`, "/t.table"], P());
    writeFileSync(join(ctx.dir, "big.bin"), new Uint8Array(300_000).fill(5));
    await pondOk(["copy", `host://${join(ctx.dir, "big.bin")}`, "/big.bin"], P());
  };

  test("payloads pond wrote are not hashed by reads; a changed one is hashed once, then not again", async () => {
    await freshPond();
    const q = ["query", "SELECT count(*) FROM '/s.series'"];
    // Written by this pond: recorded at write time (their hash was computed while writing).
    for (const args of [q, ["cat", "/t.table", "--sql", "SELECT 1"], ["cat", "/big.bin"], ["copy", "/big.bin", `host://${join(ctx.dir, "o")}`]]) {
      expect(hashed((await pondOk(args, P(DEBUG))).stderr)).toBe(0);
    }
    const payload = await payloadOf("/s.series", 2);
    const undo = flipByte(payload, -200);
    undo(); // same bytes again, but a new identity: hashed before use
    const r = await pondOk(q, P(DEBUG));
    expect(hashed(r.stderr)).toBe(1);
    // Hashed once, recorded with the new identity: the next read hashes nothing.
    expect(hashed((await pondOk(q, P(DEBUG))).stderr)).toBe(0);
  });

  test("a torn record does not stop reads: payloads are hashed instead, and recorded again", async () => {
    const shards = join(ctx.pondDir, "control", "verified-payloads");
    const names = readdirSync(shards);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) writeFileSync(join(shards, n), "{ torn");
    const r = await pondOk(["query", "SELECT count(*) AS n FROM '/s.series'", "--format", "csv"], P(DEBUG));
    expect(r.stdout).toBe("n\n400\n");
    expect(hashed(r.stderr)).toBe(2);
    // Rewritten by that read: the next one hashes nothing.
    expect(hashed((await pondOk(["query", "SELECT count(*) FROM '/s.series'"], P(DEBUG))).stderr)).toBe(0);
  });
});
