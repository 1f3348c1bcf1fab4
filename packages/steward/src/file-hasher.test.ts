import { expect, test } from "bun:test";
import { FileHasher } from "./file-hasher.ts";
import { randomBytes, sha256 as sha, tempFolder } from "../../../test/support/kit.ts";

test("hash() gives each file's size and sha256 when more files than threads are hashed at once", async () => {
  const sizes = [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3_000_000];
  using t = tempFolder(Object.fromEntries(sizes.map((n, i) => [`f${i}`, randomBytes(n, i + 1)])));
  const files = sizes.map((n, i) => ({ path: t.path(`f${i}`), content: randomBytes(n, i + 1) }));
  const hasher = new FileHasher(2);
  try {
    const got = await Promise.all(files.map((f) => hasher.hash(f.path)));
    expect(got).toEqual(files.map((f) => ({ size: f.content.length, sha256: sha(f.content) })));
  } finally {
    hasher.close();
  }
});

test("hash() rejects with the file's error code when the file is missing, and the thread goes on", async () => {
  using t = tempFolder({ there: "x" });
  const hasher = new FileHasher(1);
  try {
    const err = await hasher.hash(t.path("missing")).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ENOENT");
    expect((err as Error).message).toContain("missing");
    expect(await hasher.hash(t.path("there"))).toEqual({ size: 1, sha256: sha(new TextEncoder().encode("x")) });
  } finally {
    hasher.close();
  }
});
