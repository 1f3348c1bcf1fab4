import { expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listHostFolder, pondNameOf, readHostFile, statHost } from "./host-files.ts";

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

test("pondNameOf() keeps valid UTF-8 and spells each odd byte as \\xNN", () => {
  expect(pondNameOf(Buffer.from("café.txt"))).toEqual({ name: "café.txt", escaped: false });
  // Latin-1 "café.txt": é is the lone byte E9.
  expect(pondNameOf(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74]))).toEqual({ name: "caf\\xE9.t", escaped: true });
  // A valid character beside odd bytes survives; a truncated sequence and a lone continuation byte are escaped.
  expect(pondNameOf(Buffer.concat([Buffer.from("é"), Buffer.from([0xe2, 0x82]), Buffer.from("x"), Buffer.from([0x80])]))).toEqual({
    name: "é\\xE2\\x82x\\x80",
    escaped: true,
  });
});

test("listHostFolder() finds a name that is not UTF-8 by its bytes, and readHostFile() reads it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "host-files-"));
  try {
    const odd = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]);
    writeFileSync(odd, "latin-1 name");
    writeFileSync(join(dir, "plain.txt"), "x");
    const kids = listHostFolder(dir);
    expect(kids.map((k) => [k.name, k.escaped])).toEqual([
      ["caf\\xE9.txt", true],
      ["plain.txt", false],
    ]);
    const bytes: Uint8Array[] = [];
    for await (const c of readHostFile(kids[0]!.path)) bytes.push(c);
    expect(Buffer.concat(bytes).toString()).toBe("latin-1 name");
    expect(statHost(kids[0]!.path, "x").size).toBe(12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("listHostFolder() refuses two host names that would read as the same pond name", () => {
  const dir = mkdtempSync(join(tmpdir(), "host-files-"));
  try {
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/a`), Buffer.from([0xff])]), "1");
    writeFileSync(join(dir, "a\\xFF"), "2");
    expect(() => listHostFolder(dir)).toThrow(/two names that both read as "a\\xFF"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readHostFile() stops at `limit` when the caller measured the file earlier", async () => {
  const dir = mkdtempSync(join(tmpdir(), "host-files-"));
  try {
    const f = join(dir, "f");
    writeFileSync(f, "0123456789");
    let s = "";
    for await (const c of readHostFile(f, { limit: 4 })) s += Buffer.from(c).toString();
    expect(s).toBe("0123");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
