// Issue 15, "a pond that collects for years stays small": `pond maintain cleanup` moves the
// control log's lines (control/transactions.jsonl) into compressed archives once the file is
// over `maintain.control-archive-after`. `pond log` shows exactly what it showed before, writes
// go on after the rotation, a dry run changes no byte, and fsck names a damaged archive (exit 4).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pond, pondOk, tempDir } from "./support/pond-cli.ts";
import { startS3Server } from "./support/s3-server.ts";

let tmp: ReturnType<typeof tempDir>;
let base: { pond: string };

/** path → sha256 of every file under `dir`, and every folder. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    out[full.slice(dir.length)] = e.isFile() ? `${new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex")}:${statSync(full).mtimeMs}` : "dir";
  }
  return out;
}

beforeAll(async () => {
  tmp = tempDir("pond-control-archive-");
  base = { pond: join(tmp.dir, "base") };
  await pondOk(["init"], base);
  for (let i = 0; i < 8; i++) await pondOk(["mkdir", "-p", `/site${i}/raw`], base);
  // A failed write: history with no snapshot, which the archive must keep too.
  expect((await pond(["mkdir", "/site0"], base)).code).not.toBe(0);
  await pondOk(["config", "set", "maintain.control-archive-after", "1KiB"], base);
});
afterAll(() => tmp?.cleanup());

let n = 0;
function copy(): { pond: string } {
  const P = { pond: join(tmp.dir, `c${n++}`) };
  cpSync(base.pond, P.pond, { recursive: true, preserveTimestamps: true });
  return P;
}

describe("the control log's archives", () => {
  test("cleanup archives transactions.jsonl; `pond log` (text and json) is identical before and after, and writes go on", async () => {
    const P = copy();
    const live = join(P.pond, "control/transactions.jsonl");
    const bytes = statSync(live).size;
    expect(bytes).toBeGreaterThan(1024);
    const text = (await pondOk(["log"], P)).stdout;
    const json = (await pondOk(["log", "--format", "json"], P)).stdout;
    expect(text).toContain("failed");
    const before = hashTree(P.pond);
    const dry = await pondOk(["maintain", "cleanup", "--dry-run"], P);
    const file = `${"0".repeat(20)}-${String(bytes).padStart(20, "0")}.jsonl.zst`;
    expect(dry.stdout).toContain(`would archive control/transactions/${file}`);
    expect(hashTree(P.pond)).toEqual(before);
    const r = await pondOk(["maintain", "cleanup", "--format", "json"], P);
    const [step] = (JSON.parse(r.stdout) as { steps: { items: { key: string; size: number; why: string; action?: string }[] }[] }).steps;
    const archive = join(P.pond, "control/transactions", file);
    expect(step!.items.filter((i) => i.action === "archived")).toEqual([
      { key: `control/transactions/${file}`, size: statSync(archive).size, why: expect.stringContaining(`(${bytes} bytes)`), action: "archived" },
    ]);
    expect(readFileSync(live, "utf8")).toBe(`{"type":"base","offset":${bytes}}\n`);
    expect(statSync(archive).size).toBeLessThan(bytes / 2);
    expect((await pondOk(["log"], P)).stdout).toBe(text);
    expect((await pondOk(["log", "--format", "json"], P)).stdout).toBe(json);
    expect((await pondOk(["log", "--limit", "2"], P)).stdout).toBe(text.split("\n\n").slice(0, 2).join("\n\n") + "\n\n");
    // A write after it: on top of the same history.
    await pondOk(["mkdir", "/after"], P);
    const later = (await pondOk(["log"], P)).stdout;
    expect(later.endsWith(text)).toBe(true);
    expect(later.slice(0, later.length - text.length)).toContain("command: pond mkdir /after");
    expect((await pond(["fsck"], P)).code).toBe(0);
    // Under the threshold again: the next cleanup leaves the live file alone.
    const again = await pondOk(["maintain", "cleanup", "--format", "json"], P);
    expect(again.stdout).not.toContain('"archived"');
  });

  test("automatic maintenance archives the control log after a series append once it is over the threshold; config --help lists the key", async () => {
    const P = { pond: join(tmp.dir, "auto") };
    await pondOk(["init"], P);
    expect((await pondOk(["config", "--help"], P)).stdout).toContain("maintain.control-archive-after (1MiB)");
    expect((await pond(["config", "set", "maintain.control-archive-after", "big"], P)).code).toBe(2);
    await pondOk(["config", "set", "maintain.control-archive-after", "1KiB"], P);
    const live = join(P.pond, "control/transactions.jsonl");
    for (let i = 0; i < 6; i++) {
      const file = join(tmp.dir, `a${i}.csv`);
      writeFileSync(file, `timestamp,v\n2024-03-01T00:${String(i).padStart(2, "0")}:00Z,${i}\n`);
      await pondOk(["copy", `host+series+csv://${file}`, "/a.series"], P);
    }
    const archives = readdirSync(join(P.pond, "control/transactions"));
    expect(archives.length).toBeGreaterThan(0);
    expect(statSync(live).size).toBeLessThan(1024 + 1024);
    const log = JSON.parse((await pondOk(["log", "--format", "json"], P)).stdout) as { command: string[]; status: string }[];
    expect(log.map((t) => t.status)).toEqual(Array(7).fill("committed"));
    expect(log.at(-1)!.command).toContain("init");
    expect((await pond(["fsck"], P)).code).toBe(0);
  });

  test("push to S3 after a rotation: a remote pushed before it and one pushed after both restore the same `pond log`", async () => {
    const s3 = await startS3Server();
    try {
      const P = copy();
      const run = (args: string[], at = P) => pondOk(args, { ...at, env: s3.env });
      await run(["remote", "add", "early", `s3://${s3.bucket}/early`, "--endpoint", s3.endpoint]);
      await run(["push", "early"]);
      await run(["maintain", "cleanup"]);
      expect(readdirSync(join(P.pond, "control/transactions"))).toHaveLength(1);
      await pondOk(["mkdir", "/after"], P);
      const early = JSON.parse((await run(["push", "early", "--format", "json"])).stdout)[0] as { controlBytes: number };
      // Exactly the lines of the write after the rotation: the live file less its header.
      const live = readFileSync(join(P.pond, "control/transactions.jsonl"), "utf8");
      expect(early.controlBytes).toBe(Buffer.byteLength(live) - Buffer.byteLength(live.split("\n")[0]!) - 1);
      await run(["remote", "add", "late", `s3://${s3.bucket}/late`, "--endpoint", s3.endpoint]);
      await run(["push", "late"]);
      const log = (await pondOk(["log", "--format", "json"], P)).stdout;
      for (const name of ["early", "late"]) {
        const R = { pond: join(tmp.dir, `restored-${name}-${n++}`) };
        await pondOk(["restore", `s3://${s3.bucket}/${name}`, "--endpoint", s3.endpoint, "--pond", R.pond], { env: s3.env });
        expect({ name, log: (await pondOk(["log", "--format", "json"], R)).stdout }).toEqual({ name, log });
      }
    } finally {
      await s3.close();
    }
  }, 60_000);

  test("a damaged archive: fsck exits 4 naming it and the fix, and `pond log` fails naming it", async () => {
    const P = copy();
    await pondOk(["maintain", "cleanup"], P);
    const [file] = readdirSync(join(P.pond, "control/transactions"));
    const archive = join(P.pond, "control/transactions", file!);
    const bytes = readFileSync(archive);
    bytes.fill(0x41, 8, 40);
    writeFileSync(archive, bytes);
    const r = await pond(["fsck", "--format", "json"], P);
    expect(r.code).toBe(4);
    const { problems } = JSON.parse(r.stdout) as { problems: { path: string; problem: string; fix: string }[] };
    expect(problems).toEqual([
      {
        path: `control/transactions/${file}`,
        problem: expect.stringMatching(/^it is not a whole Zstandard frame \(/),
        fix: expect.stringContaining("back from a backup"),
      },
    ]);
    const text = await pond(["fsck"], P);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain(`PROBLEM control/transactions/${file}: `);
    const log = await pond(["log"], P);
    expect(log.code).not.toBe(0);
    expect(log.stderr).toContain(archive);
  });
});
