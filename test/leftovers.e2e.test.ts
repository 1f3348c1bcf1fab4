import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, newPond, pond, pondOk, tempDir } from "./support/pond-cli.ts";
import { seededRandom } from "./support/kit.ts";

const payloads = seededRandom("leftovers payloads");

/** What a killed or failed command leaves is cleaned by its next run or by `pond recover`, which says so. */
const t = tempDir("pond-leftovers-");
afterAll(() => t.cleanup());

describe("leftovers", () => {
  test("a killed restore's hidden temp folder is removed by the next restore into the same target, which says so", async () => {
    const p = await newPond();
    try {
      const big = join(t.dir, "big.bin");
      writeFileSync(big, payloads.bytes(48 << 20));
      await pondOk(["copy", `host://${big}`, "/big.bin"], { pond: p.pondDir });
      const folder = join(t.dir, "usb");
      await pondOk(["remote", "add", "usb", `file://${folder}`], { pond: p.pondDir });
      await pondOk(["push", "usb"], { pond: p.pondDir });

      const target = join(t.dir, "restored");
      const leftovers = () => readdirSync(t.dir).filter((n) => n.startsWith(".restored.restore-"));
      const proc = Bun.spawn([POND_BIN, "restore", `file://${folder}`, "--pond", target], { stdout: "ignore", stderr: "ignore" });
      // Kill it once its temp folder exists (it is made before the download starts).
      for (let i = 0; i < 20000 && leftovers().length === 0 && proc.exitCode === null; i++) await Bun.sleep(0);
      proc.kill("SIGKILL");
      await proc.exited;
      expect({ exit: proc.signalCode ?? proc.exitCode, leftovers: leftovers().length }).toEqual({ exit: "SIGKILL", leftovers: 1 });
      expect(existsSync(target)).toBe(false);

      const left = join(t.dir, leftovers()[0]!);
      const r = await pondOk(["restore", `file://${folder}`, "--pond", target]);
      expect(r.stderr).toContain(`removed ${left} (`);
      expect(r.stderr).toContain("left by a restore that was killed");
      expect(leftovers()).toEqual([]);
      expect((await pondOk(["list"], { pond: target })).stdout).toContain("/big.bin");
    } finally {
      p.cleanup();
    }
  });

  test("a failed multi-source copy's payload is removed by recover, which names it", async () => {
    const p = await newPond();
    try {
      const good = join(t.dir, "good.bin");
      const bad = join(t.dir, "bad.parquet");
      writeFileSync(good, payloads.bytes(200_000));
      writeFileSync(bad, "not parquet\n");
      await pondOk(["mkdir", "/d"], { pond: p.pondDir });
      const c = await pond(["copy", `host://${good}`, `host+table://${bad}`, "/d/"], { pond: p.pondDir });
      expect(c.code).toBe(1);
      const large = join(p.pondDir, "data", "_large_files");
      const staged = readdirSync(large);
      expect(staged.length).toBe(1);
      const r = await pondOk(["recover"], { pond: p.pondDir });
      expect(r.stdout).toContain("removed 1 unreferenced file(s), 200000 bytes");
      expect(r.stdout).toContain(`_large_files/${staged[0]} (200000 bytes)`);
      expect(readdirSync(large)).toEqual([]);
      expect((await pondOk(["list", "-a"], { pond: p.pondDir })).stdout).toBe("/d\n");
    } finally {
      p.cleanup();
    }
  });
});
