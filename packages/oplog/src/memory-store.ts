/**
 * An ObjectStore in a Map, for tests and for ponds that never touch a disk. It copies
 * bytes in and out, so callers can neither change a stored object nor see a partial
 * one; a streamed body is collected before it is published.
 */
import { concatBytes } from "@pond/tinyfs";
import { ObjectNotFoundError } from "./errors.ts";
import { checkKey, sortByKey } from "./object-key.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";

interface Stored {
  bytes: Uint8Array;
  lastModified: number;
}

export class MemoryObjectStore implements ObjectStore {
  readonly url: string;
  private readonly objects = new Map<string, Stored>();
  private readonly now: () => number;

  /** `now` (ms) stamps `lastModified`; tests pass a clock to control it. */
  constructor(opts: { url?: string; now?: () => number } = {}) {
    this.url = opts.url ?? "memory://";
    this.now = opts.now ?? Date.now;
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const o = this.find(key);
    if (!range) return o.bytes.slice();
    return o.bytes.slice(range.offset, range.offset + range.length);
  }

  async *getStream(key: string): AsyncIterable<Uint8Array> {
    const o = this.find(key);
    const chunk = 1 << 20;
    for (let i = 0; i < o.bytes.length; i += chunk) yield o.bytes.slice(i, i + chunk);
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: { ifAbsent?: boolean } = {}): Promise<"created" | "exists"> {
    checkKey(key);
    const bytes = body instanceof Uint8Array ? body.slice() : await collect(body);
    // No await between this check and the set: that is what makes ifAbsent atomic.
    if (opts.ifAbsent && this.objects.has(key)) return "exists";
    this.objects.set(key, { bytes, lastModified: this.now() });
    return "created";
  }

  async head(key: string): Promise<ObjectMeta | null> {
    checkKey(key);
    const o = this.objects.get(key);
    return o ? { key, size: o.bytes.length, lastModified: o.lastModified } : null;
  }

  async *list(prefix: string): AsyncIterable<ObjectMeta> {
    const found: ObjectMeta[] = [];
    for (const [key, o] of this.objects) if (key.startsWith(prefix)) found.push({ key, size: o.bytes.length, lastModified: o.lastModified });
    yield* sortByKey(found);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.objects.delete(key);
  }

  private find(key: string): Stored {
    checkKey(key);
    const o = this.objects.get(key);
    if (!o) throw new ObjectNotFoundError(this.url, key);
    return o;
  }
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    parts.push(new Uint8Array(c)); // a copy: Buffer.slice would only make a view
    n += c.length;
  }
  return concatBytes(parts, n);
}
