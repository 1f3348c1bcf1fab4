import { expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readHostFile, statHost } from "./host-files.ts";

test("readHostFile() reads a file only to the size it had when opened, when it grows while being read", async () => {
  const dir = mkdtempSync(join(tmpdir(), "host-files-"));
  try {
    const f = join(dir, "growing.log");
    writeFileSync(f, Buffer.alloc(5 * 1024 * 1024, 1)); // more than one 4 MiB chunk
    let n = 0;
    let grew = false;
    for await (const chunk of readHostFile(f)) {
      n += chunk.length;
      if (!grew) {
        appendFileSync(f, Buffer.alloc(3 * 1024 * 1024, 2));
        grew = true;
      }
      expect(chunk.every((b) => b === 1)).toBe(true);
    }
    expect(n).toBe(5 * 1024 * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("statHost() refuses a FIFO, a device and a /proc file, naming them", () => {
  const dir = mkdtempSync(join(tmpdir(), "host-files-"));
  try {
    const fifo = join(dir, "p");
    Bun.spawnSync(["mkfifo", fifo]);
    expect(() => statHost(fifo, "host:p")).toThrow(/FIFO/);
    expect(() => statHost("/dev/zero", "host:///dev/zero")).toThrow(/character device/);
    expect(() => statHost("/proc/self/status", "x")).toThrow(/pseudo-file/);
    expect(statHost(dir, "d").isDirectory).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
