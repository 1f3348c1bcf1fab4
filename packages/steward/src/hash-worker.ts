/**
 * The body of a hashing thread of `FileHasher` (file-hasher.ts): hashes host files by
 * path, reading them in blocks, and answers each request with size and sha256.
 * It is an entry point of the binary's build (packages/cmd/build.ts) of its own.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { newSha256 } from "@pond/tinyfs";

declare const self: Worker;

export interface HashRequest {
  id: number;
  path: string;
}

export type HashReply = { id: number; size: number; sha256: string } | { id: number; error: { message: string; code?: string } };

/** 1 MiB: the block stays in the CPU cache between the read and the hash. */
const buf = Buffer.allocUnsafe(1024 * 1024);

function hashFile(path: string): { size: number; sha256: string } {
  const hasher = newSha256();
  const fd = openSync(path, "r");
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: hasher.hex() };
}

self.onmessage = (ev: MessageEvent<HashRequest>) => {
  const { id, path } = ev.data;
  let reply: HashReply;
  try {
    reply = { id, ...hashFile(path) };
  } catch (e) {
    // Sent back as data: the caller rebuilds the error (an Error does not cross threads whole).
    reply = { id, error: { message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code } };
  }
  postMessage(reply);
};
