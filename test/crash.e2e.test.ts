import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { randomBytes, seededRandom, sha256 as sha } from "./support/kit.ts";

const MB = 1024 * 1024;
let ctx: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  ctx = await newPond();
});
afterAll(() => ctx.cleanup());

/** 50 MB of bytes that differ per `seed`, so each copy is new content. */
function bigFile(seed: number): Uint8Array {
  return randomBytes(50 * MB, seed);
}

describe("crashes", () => {
  test("SIGKILL of `pond copy` of a 50 MB file at 20+ random moments: after recover, the file is whole or absent and earlier files are intact", async () => {
    const o = { pond: ctx.pondDir };
    writeFileSync(join(ctx.dir, "seed.txt"), "seed");
    await pondOk(["copy", `host://${join(ctx.dir, "seed.txt")}`, "/seed.txt"], o);
    // How long an uninterrupted copy takes, to spread the kills over all of it.
    const first = bigFile(1000);
    writeFileSync(join(ctx.dir, "big.bin"), first);
    const t0 = performance.now();
    await pondOk(["copy", `host://${join(ctx.dir, "big.bin")}`, "/done.bin"], o);
    const full = performance.now() - t0;
    const committed = new Map<string, string>([
      ["/seed.txt", sha(new TextEncoder().encode("seed"))],
      ["/done.bin", sha(first)],
    ]);
    let whole = 0,
      absent = 0;
    const moments = seededRandom("crash kill moments");
    for (let i = 0; i < 22; i++) {
      const bytes = bigFile(i + 1);
      writeFileSync(join(ctx.dir, "big.bin"), bytes);
      const target = `/big-${i}.bin`;
      const proc = Bun.spawn([POND_BIN, "copy", `host://${join(ctx.dir, "big.bin")}`, target], {
        env: { ...process.env, POND: ctx.pondDir },
        stdout: "ignore",
        stderr: "ignore",
      });
      await Bun.sleep(moments.next() * full * 1.1);
      proc.kill("SIGKILL");
      await proc.exited;
      await pondOk(["recover"], o);
      const listed = (await pondOk(["list", "/"], o)).stdout.split("\n");
      if (listed.includes(target)) {
        expect(sha((await pondOk(["cat", target], o)).stdoutBytes)).toBe(sha(bytes));
        committed.set(target, sha(bytes));
        whole++;
      } else {
        const r = await pond(["cat", target], o);
        expect(r.code).toBe(1);
        absent++;
      }
      expect((await pondOk(["cat", "/seed.txt"], o)).stdout).toBe("seed");
      expect(listed.filter(Boolean).sort()).toEqual([...committed.keys()].sort());
    }
    for (const [path, digest] of committed) expect(sha((await pondOk(["cat", path], o)).stdoutBytes)).toBe(digest);
    // Recover leaves no transaction open and no stray temp files.
    const log = JSON.parse((await pondOk(["log", "--format", "json"], o)).stdout) as { status: string }[];
    expect(log.filter((t) => t.status === "incomplete")).toEqual([]);
    const again = await pondOk(["recover"], o);
    expect(again.stdout).toContain("Nothing to recover");
    const temps = (readdirSync(ctx.pondDir, { recursive: true }) as string[]).filter((n) => /(^|\/)(\.tmp-|\.pond-put-)|\.tmp$/.test(n));
    expect(temps).toEqual([]);
    console.log(`crash test: ${whole} whole, ${absent} absent of 22 kills (uninterrupted copy ${full.toFixed(0)} ms)`);
  }, 300_000);
});

describe("concurrency", () => {
  test("four `pond copy` processes started together all succeed and the log has all four commits", async () => {
    const o = { pond: ctx.pondDir };
    await pondOk(["mkdir", "/conc"], o);
    const before = JSON.parse((await pondOk(["log", "--format", "json"], o)).stdout).length;
    const files = [0, 1, 2, 3].map((i) => {
      const f = join(ctx.dir, `c${i}.txt`);
      writeFileSync(f, `content ${i}\n`.repeat(1000 * (i + 1)));
      return f;
    });
    const procs = files.map((f, i) => pond(["copy", `host://${f}`, `/conc/c${i}.txt`], o));
    const results = await Promise.all(procs);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect((await pondOk(["list", "/conc/"], o)).stdout).toBe("/conc/c0.txt\n/conc/c1.txt\n/conc/c2.txt\n/conc/c3.txt\n");
    const log = JSON.parse((await pondOk(["log", "--format", "json"], o)).stdout) as { status: string; command: string[] }[];
    expect(log.length - before).toBe(4);
    expect(log.slice(0, 4).every((t) => t.status === "committed" && t.command[1] === "copy")).toBe(true);
    for (let i = 0; i < 4; i++) expect((await pondOk(["cat", `/conc/c${i}.txt`], o)).stdout).toBe(`content ${i}\n`.repeat(1000 * (i + 1)));
  }, 60_000);
});
