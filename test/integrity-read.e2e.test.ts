// Every read path either reads payload bytes whose sha256 matches the log, or fails
// with exit 4 naming the pond path, the version and the payload, and lets no damaged
// byte out (stdout stays empty, no host file is left behind).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
let host: string;
const P = () => ({ pond: ctx.pondDir });

beforeAll(async () => {
  ctx = await newPond();
  host = join(ctx.dir, "host");
  mkdirSync(host);
  writeFileSync(join(host, "a.csv"), "timestamp,v\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n");
  writeFileSync(join(host, "b.csv"), "timestamp,v\n2024-01-02T00:00:00Z,10\n2024-01-02T01:00:00Z,20\n");
  await pondOk(["copy", `host+series+csv://${join(host, "a.csv")}`, "/s.series"], P());
  await pondOk(["copy", `host+series+csv://${join(host, "b.csv")}`, "/s.series"], P());
  await pondOk(["copy", `host+csv://${join(host, "a.csv")}`, "/t.table"], P());
  const big = new Uint8Array(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  writeFileSync(join(host, "big.bin"), big);
  await pondOk(["copy", `host://${join(host, "big.bin")}`, "/big.bin"], P());
});
afterAll(() => ctx.cleanup());

async function payloadOf(path: string, version?: number): Promise<string> {
  const d = JSON.parse((await pondOk(["describe", path, "--format", "json"], P())).stdout) as { versions: { version: number; sha256: string }[] };
  const v = version === undefined ? d.versions[d.versions.length - 1]! : d.versions.find((x) => x.version === version)!;
  return join(ctx.pondDir, "data", "_large_files", `sha256=${v.sha256}`);
}

/** Flips one bit of `file` in place, keeping its size and (like a careful attacker) its mtime; returns the undo. */
function damage(file: string, at = 100): () => void {
  const before = readFileSync(file);
  const st = statSync(file);
  const bad = Buffer.from(before);
  bad[Math.min(at, bad.length - 1)]! ^= 1;
  writeFileSync(file, bad);
  utimesSync(file, st.atime, st.mtime);
  return () => writeFileSync(file, before);
}

/** The record's shard files (control/verified-payloads/<2 hex>.txt). */
function recordShards(): string[] {
  const d = join(ctx.pondDir, "control", "verified-payloads");
  return existsSync(d) ? readdirSync(d).map((n) => join(d, n)) : [];
}

function recordLines(): number {
  return recordShards().reduce((n, f) => n + readFileSync(f, "utf8").split("\n").filter(Boolean).length, 0);
}

describe("a damaged payload is never read as good", () => {
  const seriesReads: [string, string[]][] = [
    ["query", ["query", "SELECT sum(v) AS s FROM '/s.series'"]],
    ["query over a glob", ["query", "SELECT count(*) AS n FROM '/*.series'"]],
    ["cat (direct reader)", ["cat", "/s.series"]],
    ["cat --format json", ["cat", "/s.series", "--format", "json"]],
    ["cat --sql", ["cat", "/s.series", "--sql", "SELECT sum(v) AS s FROM source"]],
    ["cat --time-start (the damaged version is in range)", ["cat", "/s.series", "--time-start", "2024-01-02"]],
    ["cat --version 2 --format parquet", ["cat", "/s.series", "--version", "2", "--format", "parquet"]],
  ];
  for (const [what, args] of seriesReads) {
    test(`${what} of a series with one flipped bit in version 2 exits 4 naming the path, the version and the payload, and prints nothing`, async () => {
      const file = await payloadOf("/s.series", 2);
      const undo = damage(file);
      try {
        const r = await pond(args, P());
        expect(r.code).toBe(4);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain(`"/s.series" version 2`);
        expect(r.stderr).toContain(file.slice(file.lastIndexOf("/") + 1));
        expect(r.stderr).not.toContain("Check the SQL");
      } finally {
        undo();
      }
      // Good bytes back: the same read answers again.
      expect((await pond(args, P())).code).toBe(0);
    });
  }

  test("a time range that skips the damaged version still answers (only the versions read are checked)", async () => {
    const undo = damage(await payloadOf("/s.series", 2));
    try {
      const r = await pondOk(["cat", "/s.series", "--time-end", "2024-01-02", "--format", "csv"], P());
      expect(r.stdout.trim().split("\n").length).toBe(3);
    } finally {
      undo();
    }
  });

  // (describe reads the schema the log recorded, not the payload, so it still answers.)
  test("query and cat of a damaged table exit 4", async () => {
    const undo = damage(await payloadOf("/t.table"));
    try {
      for (const args of [
        ["query", "SELECT * FROM '/t.table'"],
        ["cat", "/t.table"],
        ["cat", "/t.table", "--format", "parquet"],
      ]) {
        const r = await pond(args, P());
        expect(r.code).toBe(4);
        expect(r.stdout).toBe("");
      }
    } finally {
      undo();
    }
  });

  test("a truncated or removed payload is an integrity error, not a SQL error", async () => {
    const file = await payloadOf("/s.series", 1);
    const good = readFileSync(file);
    try {
      writeFileSync(file, good.subarray(0, 50));
      let r = await pond(["query", "SELECT sum(v) FROM '/s.series'"], P());
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("the file has 50");
      Bun.spawnSync(["rm", file]);
      r = await pond(["query", "SELECT sum(v) FROM '/s.series'"], P());
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("missing");
    } finally {
      writeFileSync(file, good);
    }
    expect((await pondOk(["query", "SELECT sum(v) AS s FROM '/s.series'", "--format", "csv"], P())).stdout).toBe("s\n33\n");
  });

  test("cat of a damaged large data file writes no byte; copy out leaves no file on the host", async () => {
    const file = await payloadOf("/big.bin");
    const undo = damage(file, 200 * 1024);
    const out = join(ctx.dir, "out");
    try {
      const r = await pond(["cat", "/big.bin"], P());
      expect(r.code).toBe(4);
      expect(r.stdoutBytes.length).toBe(0);
      expect(r.stderr).toContain(`"/big.bin" version 1`);
      const c = await pond(["copy", "/big.bin", `host://${out}`], P());
      expect(c.code).toBe(4);
      expect(existsSync(join(out, "big.bin"))).toBe(false);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    } finally {
      undo();
    }
    await pondOk(["copy", "/big.bin", `host://${out}`], P());
    expect(readFileSync(join(out, "big.bin")).equals(readFileSync(join(host, "big.bin")))).toBe(true);
    expect(readdirSync(out)).toEqual(["big.bin"]);
  });

  test("push of a damaged payload fails with exit 4 and the remote never holds it", async () => {
    const remote = join(ctx.dir, "remote");
    await pondOk(["remote", "add", "backup", `file://${remote}`], P());
    const file = await payloadOf("/big.bin");
    const undo = damage(file, 200 * 1024);
    try {
      const r = await pond(["push", "backup"], P());
      expect(r.code).toBe(4);
      expect(existsSync(join(remote, "data", "_large_files", file.slice(file.lastIndexOf("/") + 1)))).toBe(false);
    } finally {
      undo();
    }
    await pondOk(["push", "backup"], P());
    await pondOk(["verify", "backup", "--deep"], P());
  });
});

describe("each payload is hashed once, until it changes on disk", () => {
  test("a second query hashes nothing; a payload whose inode changed (chmod moves ctime) is hashed again", async () => {
    await pondOk(["query", "SELECT sum(v) FROM '/s.series'"], P());
    const after1 = recordLines();
    expect(after1).toBeGreaterThanOrEqual(2);
    await pondOk(["query", "SELECT sum(v) FROM '/s.series'"], P());
    await pondOk(["cat", "/s.series"], P());
    expect(recordLines()).toBe(after1);
    const file = await payloadOf("/s.series", 1);
    chmodSync(file, 0o600);
    chmodSync(file, 0o644);
    await pondOk(["query", "SELECT sum(v) FROM '/s.series'"], P());
    // Hashed again and recorded with its new identity, in place of the old line (one line a payload).
    expect(recordLines()).toBe(after1);
    const sha = file.slice(file.lastIndexOf("sha256=") + 7);
    const st = statSync(file, { bigint: true });
    const shardText = readFileSync(join(ctx.pondDir, "control", "verified-payloads", `${sha.slice(0, 2)}.txt`), "utf8");
    expect(shardText.split("\n").filter((l) => l.startsWith(sha))).toEqual([`${sha} ${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`]);
  });

  test("a damaged record file does not stop reads and does not let a damaged payload through", async () => {
    const keep = new Map(recordShards().map((f) => [f, readFileSync(f)]));
    expect(keep.size).toBeGreaterThan(0);
    for (const f of keep.keys()) writeFileSync(f, "garbage\n\u0000\u0001 not a line\n");
    try {
      expect((await pondOk(["query", "SELECT sum(v) AS s FROM '/s.series'", "--format", "csv"], P())).stdout).toBe("s\n33\n");
      const undo = damage(await payloadOf("/s.series", 1));
      try {
        expect((await pond(["query", "SELECT sum(v) FROM '/s.series'"], P())).code).toBe(4);
      } finally {
        undo();
      }
    } finally {
      for (const [f, bytes] of keep) writeFileSync(f, bytes);
    }
  });
});
