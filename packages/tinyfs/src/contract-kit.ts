/**
 * What the persistence contract suites share: a fresh backend per test, committing
 * helpers, and the small readers and error assertions their clauses use.
 */
import { afterEach, beforeEach, expect } from "bun:test";
import { PondError } from "@pond/diagnostics";
import { sha256Hex } from "./bytes.ts";
import type { Persistence, ReadView, Transaction } from "./persistence.ts";
import { newTxnMeta } from "./txn-meta.ts";
import { ROOT_ID, type DirEntry, type NodeId, type TxnMeta } from "./types.ts";

/** Makes a new, freshly initialized, empty backend (see runPersistenceContract). */
export type MakeBackend = () => Promise<{ persistence: Persistence; cleanup?: () => Promise<void> }>;

/** In the calling describe: a fresh backend from `make` before each test (given to `use`), cleaned up after it. */
export function useFreshBackend(make: MakeBackend, use: (p: Persistence) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const b = await make();
    use(b.persistence);
    cleanup = b.cleanup;
  });
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });
}

/** Writes through the backend `current()` returns: a committed transaction, or one root file. */
export function commitHelpers(current: () => Persistence): {
  commitWith(fn: (txn: Transaction) => Promise<void>): Promise<number>;
  writeRootFile(fileName: string, ...contents: Uint8Array[]): Promise<{ nodeId: NodeId; seq: number }>;
} {
  /** Runs `fn` in a transaction and commits it; resolves to the committed sequence. */
  async function commitWith(fn: (txn: Transaction) => Promise<void>): Promise<number> {
    const txn = await current().begin(meta());
    await fn(txn);
    return txn.commit();
  }

  /** Writes one file:data node in the root, committed. */
  async function writeRootFile(fileName: string, ...contents: Uint8Array[]): Promise<{ nodeId: NodeId; seq: number }> {
    let nodeId = "";
    const seq = await commitWith(async (txn) => {
      nodeId = txn.newNodeId();
      let last = 0;
      for (const c of contents) last = (await txn.addVersion(ROOT_ID, nodeId, "file:data", c)).version;
      await txn.writeDir(ROOT_ID, [{ name: fileName, childNodeId: nodeId, entryType: "file:data", versionLastModified: last }]);
    });
    return { nodeId, seq };
  }
  return { commitWith, writeRootFile };
}

export function meta(): TxnMeta {
  return newTxnMeta(["pond", "contract-test"], "contract");
}

export function entry(name: string, childNodeId: NodeId, entryType: DirEntry["entryType"], versionLastModified = 1): DirEntry {
  return { name, childNodeId, entryType, versionLastModified };
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function decode(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

export function sha256(b: Uint8Array): string {
  return sha256Hex(b);
}

/** Streams `data` in chunks of the given sizes, cycling through them. */
export async function* chunked(data: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = sizes[i++ % sizes.length]!;
    yield data.slice(off, off + n);
    off += n;
    await Promise.resolve();
  }
}

/** Streams the pieces through one reused buffer, as a host-file read loop does. */
export async function* reusingOneBuffer(pieces: string[]): AsyncIterable<Uint8Array> {
  const buf = new Uint8Array(3);
  for (const p of pieces) {
    const n = new TextEncoder().encodeInto(p, buf).written;
    yield buf.subarray(0, n);
    buf.fill(0x21);
  }
}

export async function readBytes(v: ReadView, parentId: NodeId, nodeId: NodeId, version?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of v.read(parentId, nodeId, version)) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

export async function readText(v: ReadView, parentId: NodeId, nodeId: NodeId, version?: number): Promise<string> {
  return decode(await readBytes(v, parentId, nodeId, version));
}

/** Awaits `p`, expects it to reject with a PondError of `code`, and returns that error. */
export async function expectCode(p: Promise<unknown>, code: string): Promise<PondError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PondError);
  expect((e as PondError).code).toBe(code);
  return e as PondError;
}

/** Awaits `p`, expects it to reject with an instance of `cls` carrying `code`, and returns that error. */
export async function expectError(p: Promise<unknown>, cls: new (...args: never[]) => PondError, code: string): Promise<PondError> {
  const e = await expectCode(p, code);
  expect(e).toBeInstanceOf(cls);
  return e;
}
