import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytes } from "./backup-test-kit.ts";
import { FileHasher } from "./file-hasher.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pond-file-hasher-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

test("hash() gives each file's size and sha256 when more files than threads are hashed at once", async () => {
  const files = [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3_000_000].map((n, i) => ({ path: join(dir, `f${i}`), content: bytes(n, i + 1) }));
  for (const f of files) writeFileSync(f.path, f.content);
  const hasher = new FileHasher(2);
  try {
    const got = await Promise.all(files.map((f) => hasher.hash(f.path)));
    expect(got).toEqual(files.map((f) => ({ size: f.content.length, sha256: sha(f.content) })));
  } finally {
    hasher.close();
  }
});

test("hash() rejects with the file's error code when the file is missing, and the thread goes on", async () => {
  writeFileSync(join(dir, "there"), "x");
  const hasher = new FileHasher(1);
  try {
    const err = await hasher.hash(join(dir, "missing")).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ENOENT");
    expect((err as Error).message).toContain("missing");
    expect(await hasher.hash(join(dir, "there"))).toEqual({ size: 1, sha256: sha(new TextEncoder().encode("x")) });
  } finally {
    hasher.close();
  }
});
