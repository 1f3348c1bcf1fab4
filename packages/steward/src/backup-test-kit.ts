/**
 * Helpers for the steward's backup tests (push, pull, restore, verify): ponds in temp
 * folders and small writes through the real transaction path. Not exported from the
 * package.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, type ObjectMeta } from "@pond/oplog";
import { WD } from "@pond/tinyfs";
import { Pond } from "./pond.ts";

export interface Kit {
  dir: string;
  cleanup(): void;
}

export function tempKit(): Kit {
  const dir = mkdtempSync(join(tmpdir(), "pond-backup-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function newPond(dir: string): Promise<Pond> {
  return Pond.init(dir, ["pond", "init"]);
}

/** Writes `bytes` at `path` (parents made) in one transaction; returns its version. */
export async function writeFile(pond: Pond, path: string, bytes: Uint8Array | string): Promise<number> {
  const content = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const { seq } = await pond.write(["pond", "copy", path], async ({ txn, note }) => {
    await new WD(txn).createFile(path, "file:data", content, { parents: true });
    note(`wrote ${path}`);
  });
  return seq;
}

/** Reads the newest version of `path`. */
export async function readFile(pond: Pond, path: string): Promise<Uint8Array> {
  return new WD(await pond.view()).readAll(path);
}

/** Deterministic pseudo-random bytes (see tinyfs' persistence contract). */
export { randomBytes as bytes } from "@pond/tinyfs/testing";

/** Every key (and size) in a folder store. */
export async function listing(folder: string): Promise<ObjectMeta[]> {
  return Array.fromAsync(new LocalObjectStore(folder).list(""));
}
