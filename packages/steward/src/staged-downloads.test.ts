import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LocalObjectStore, recordingStore } from "@pond/oplog";
import { largeFileKey } from "@pond/tlogfs";
import { startS3Server, type S3Server } from "../../../test/support/s3-server.ts";
import { bytes, newPond, readFile, tempKit, writeFile, type Kit } from "./backup-test-kit.ts";
import { silentProgress } from "@pond/diagnostics";
import { RemoteObjectCorruptError } from "./errors.ts";
import { fetchFromRemote } from "./fetch-remote.ts";
import { Pond } from "./pond.ts";
import { pull } from "./pull.ts";
import { push } from "./push.ts";
import { addRemote } from "./remotes.ts";
import { restore } from "./restore.ts";
import { StagedDownloads, type SettleReport } from "./staged-downloads.ts";
import { sha256 as sha } from "../../../test/support/kit.ts";

let kit: Kit;
beforeEach(() => {
  kit = tempKit();
});
afterEach(() => kit.cleanup());

/** Temp files (`.tmp-…`, `.pond-put-…`) anywhere under `dir`. */
function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((p) => p.split("/").some((s) => s.startsWith(".tmp-") || s.startsWith(".pond-put-")));
}

/** A pond with two large files (over 1 MiB: the staged path) and a small one, pushed to a folder remote. */
async function backedUp(): Promise<{ pond: Pond; remoteDir: string; big: Uint8Array[] }> {
  const pond = await newPond(join(kit.dir, "orig"));
  const big = [bytes(1_500_000, 3), bytes(2_200_000, 4)];
  await writeFile(pond, "/a.bin", big[0]!);
  await writeFile(pond, "/b.bin", big[1]!);
  await writeFile(pond, "/small.txt", "small");
  const remoteDir = join(kit.dir, "remote");
  await addRemote(pond, { name: "b", url: `file://${remoteDir}` });
  await push(pond, "b");
  return { pond, remoteDir, big };
}

describe("staged downloads (large objects from a store with downloadTo)", () => {
  test("fetchFromRemote() downloads each large object natively, once, and never streams it", async () => {
    const { remoteDir, big } = await backedUp();
    const { store, calls } = recordingStore(new LocalObjectStore(remoteDir));
    const localDir = join(kit.dir, "local");
    await fetchFromRemote(store, new LocalObjectStore(localDir));
    const keys = big.map((b) => largeFileKey(sha(b)));
    expect(
      calls
        .filter((c) => c.op === "downloadTo")
        .map((c) => c.key)
        .sort(),
    ).toEqual(keys.sort());
    expect(calls.filter((c) => c.op === "getStream")).toEqual([]);
    for (const b of big) expect(sha(readFileSync(join(localDir, largeFileKey(sha(b)))))).toBe(sha(b));
    expect(tempFiles(localDir)).toEqual([]);
  });

  test("fetchFromRemote() refuses a large object changed by hand (same size), publishes neither large object, and leaves no temp file", async () => {
    const { remoteDir, big } = await backedUp();
    const key = largeFileKey(sha(big[1]!));
    const file = join(remoteDir, key);
    const b = readFileSync(file);
    b[123_456] ^= 0x20;
    writeFileSync(file, b);
    const localDir = join(kit.dir, "local");
    const err = await fetchFromRemote(new LocalObjectStore(remoteDir), new LocalObjectStore(localDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(key);
    expect((err as Error).message).toContain("hashes to");
    expect(tempFiles(localDir)).toEqual([]);
    // All are checked before any is published: neither large file is there, nor any commit.
    expect(readdirSync(join(localDir, "_large_files"))).toEqual([]);
    expect(existsSync(join(localDir, "_delta_log"))).toBe(false);
  });

  test("fetchFromRemote() refuses a large object cut short, naming its size", async () => {
    const { remoteDir, big } = await backedUp();
    const key = largeFileKey(sha(big[0]!));
    const file = join(remoteDir, key);
    writeFileSync(file, readFileSync(file).subarray(0, 1_400_000));
    const localDir = join(kit.dir, "local");
    const err = await fetchFromRemote(new LocalObjectStore(remoteDir), new LocalObjectStore(localDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(key);
    expect(tempFiles(localDir)).toEqual([]);
  });

  test("pull() refuses a new large object changed by hand, leaving the mirror as it was and no temp file", async () => {
    const { pond, remoteDir } = await backedUp();
    await restore(`file://${remoteDir}`, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    const before = await copy.seq();
    const later = bytes(1_300_000, 5);
    await writeFile(pond, "/later.bin", later);
    await push(pond, "b");
    const file = join(remoteDir, largeFileKey(sha(later)));
    const b = readFileSync(file);
    b[0] ^= 0x01;
    writeFileSync(file, b);
    const err = await pull(copy, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(largeFileKey(sha(later)));
    expect(tempFiles(join(kit.dir, "copy"))).toEqual([]);
    expect(existsSync(join(kit.dir, "copy", "data", largeFileKey(sha(later))))).toBe(false);
    expect(await Pond.open(join(kit.dir, "copy")).seq()).toBe(before);
  });
});

describe("StagedDownloads: hashing in the background while downloads go on", () => {
  /** A folder store holding `n` large objects under their content keys, the last one changed by hand if `corruptLast`. */
  function folderWith(n: number, corruptLast = false): { src: LocalObjectStore; keys: string[]; contents: Uint8Array[] } {
    const srcDir = join(kit.dir, "src");
    const contents = Array.from({ length: n }, (_, i) => bytes(1_100_000 + i * 7_919, 20 + i));
    const keys = contents.map((c) => largeFileKey(sha(c)));
    contents.forEach((c, i) => {
      const file = join(srcDir, keys[i]!);
      writeFile0(file, c);
      if (corruptLast && i === n - 1) {
        const b = readFileSync(file);
        b[500_000] ^= 0x04;
        writeFileSync(file, b);
      }
    });
    return { src: new LocalObjectStore(srcDir), keys, contents };
  }
  function writeFile0(file: string, c: Uint8Array): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, c);
  }
  async function downloadAll(staged: StagedDownloads, src: LocalObjectStore): Promise<void> {
    for await (const m of src.list("")) {
      expect(staged.takes(m)).toBe(true);
      await staged.download(m);
    }
  }
  /** Whether this process (a hashing thread of it) has `path` open. */
  function openHere(path: string): boolean {
    return readdirSync("/proc/self/fd").some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false; // closed meanwhile
      }
    });
  }
  const corrupt = (key: string, detail: string) => new RemoteObjectCorruptError("file:///src", key, detail);

  test("settle() hashes an object again, whole, when the bytes its hash followed are not the file's (a writer that did not only append), and publishes it", async () => {
    const { src, keys, contents } = folderWith(2);
    const dstDir = join(kit.dir, "dst");
    /** Writes wrong bytes, waits until the hashing thread has the file open, then renames the right ones over it. */
    class RewritingStore extends LocalObjectStore {
      override async downloadTo(key: string, hostPath: string): Promise<void> {
        writeFileSync(hostPath, bytes(statSync(src.localPath(key)).size, 99));
        for (let i = 0; i < 500 && !openHere(hostPath); i++) await Bun.sleep(5);
        expect(openHere(hostPath)).toBe(true);
        await super.downloadTo(key, `${hostPath}.right`);
        renameSync(`${hostPath}.right`, hostPath);
      }
    }
    const rewriting = new RewritingStore(join(kit.dir, "src"));
    const staged = new StagedDownloads(rewriting, new LocalObjectStore(dstDir), { progress: silentProgress, corrupt, dirsToSync: new Set() });
    let report: SettleReport;
    try {
      await downloadAll(staged, src);
      report = await staged.settle();
    } finally {
      staged.cleanup();
    }
    expect(report.rehashed).toBe(2);
    expect(keys.map((k) => sha(readFileSync(join(dstDir, k))))).toEqual(contents.map((c) => sha(c)));
    expect(tempFiles(dstDir)).toEqual([]);
  });

  for (const unprivilegedHashing of [false, true]) {
    const how = unprivilegedHashing
      ? "threads that may not go back to normal priority (files they give up are hashed again)"
      : "threads that go back to normal priority";
    test(`settle() publishes every object byte for byte, with ${how}`, async () => {
      const { src, keys, contents } = folderWith(6);
      const dstDir = join(kit.dir, "dst");
      const staged = new StagedDownloads(src, new LocalObjectStore(dstDir), { progress: silentProgress, corrupt, dirsToSync: new Set(), unprivilegedHashing });
      try {
        await downloadAll(staged, src);
        const report = await staged.settle();
        expect(report.objects).toBe(6);
        // As root the threads go back to normal priority and give nothing up.
        if (!unprivilegedHashing && process.getuid?.() === 0) expect(report.abandoned).toBe(0);
        expect(report.abandoned).toBeLessThanOrEqual(6);
      } finally {
        staged.cleanup();
      }
      expect(keys.map((k) => sha(readFileSync(join(dstDir, k))))).toEqual(contents.map((c) => sha(c)));
      expect(tempFiles(dstDir)).toEqual([]);
    });

    test(`settle() refuses an object changed by hand and publishes none, with ${how}`, async () => {
      const { src, keys } = folderWith(6, true);
      const dstDir = join(kit.dir, "dst");
      const staged = new StagedDownloads(src, new LocalObjectStore(dstDir), { progress: silentProgress, corrupt, dirsToSync: new Set(), unprivilegedHashing });
      let err: unknown;
      try {
        await downloadAll(staged, src);
        err = await staged.settle().catch((e: unknown) => e);
      } finally {
        staged.cleanup();
      }
      expect(err).toBeInstanceOf(RemoteObjectCorruptError);
      expect((err as Error).message).toContain(keys[5]!);
      expect((err as Error).message).toContain("hashes to");
      expect(readdirSync(join(dstDir, "_large_files"))).toEqual([]);
    });
  }
});

describe("staged downloads from S3", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  }, 30_000);
  afterAll(async () => {
    await s3?.close();
  });

  test("restore() from S3 restores large objects byte for byte, and refuses one changed by hand leaving no temp file", async () => {
    const pond = await newPond(join(kit.dir, "orig"));
    const huge = bytes(3_000_000, 8);
    await writeFile(pond, "/huge.bin", huge);
    const url = `s3://${s3.bucket}/staged${Date.now()}`;
    await addRemote(pond, { name: "s3", url, endpoint: s3.endpoint });
    await push(pond, "s3", { env: s3.env });

    await restore(url, join(kit.dir, "good"), { endpoint: s3.endpoint, env: s3.env });
    expect(sha(await readFile(Pond.open(join(kit.dir, "good")), "/huge.bin"))).toBe(sha(huge));
    expect(tempFiles(join(kit.dir, "good"))).toEqual([]);

    const key = largeFileKey(sha(huge));
    const file = s3.objectFile(`${url.slice(`s3://${s3.bucket}/`.length)}/${key}`);
    const b = readFileSync(file);
    b[2_999_999] ^= 0x80;
    writeFileSync(file, b);
    const err = await restore(url, join(kit.dir, "bad"), { endpoint: s3.endpoint, env: s3.env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(key);
    expect(readdirSync(kit.dir).sort()).toEqual(["good", "orig"]);
  });
});
