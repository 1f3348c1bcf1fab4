/**
 * Where the data log lives: a flat key space of immutable-ish objects. Keys are
 * `/`-separated relative paths with no leading slash (`_delta_log/000…0.json`).
 * Implementations: a local folder, memory, and S3 (for remotes).
 *
 * Contract (checked by `runObjectStoreContract`):
 * - `get` and `head` of a missing key: `get` throws `ObjectNotFoundError`, `head`
 *   returns null.
 * - `put(key, body, {ifAbsent: true})` is atomic: exactly one of several concurrent
 *   callers gets "created"; the others get "exists" and the object holds the winner's
 *   bytes. Without ifAbsent it overwrites. A reader never sees a partial object.
 * - `list(prefix)` yields every key starting with `prefix`, sorted by key.
 * - `delete` of a missing key is not an error.
 */
export interface ObjectStore {
  /** A short description for messages ("file:///x/data", "s3://b/p"). */
  readonly url: string;
  /** Whole object, or `length` bytes from `offset`. */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  /**
   * The object as a stream of chunks (large payloads). Each chunk is the consumer's to
   * keep, unless `reuse` is true: then a store may read the next chunk into the buffer of
   * one already yielded, so a chunk is valid only until the next is asked for (a consumer
   * that writes each one out before asking for the next saves allocating the whole
   * object; the local store also reads ahead then).
   */
  getStream(key: string, opts?: { reuse?: boolean }): AsyncIterable<Uint8Array>;
  /**
   * Writes `body`. A streamed body's chunks become the store's once yielded (it may hold
   * several while it sends them): a source must yield a fresh buffer each time, never one
   * it reuses. Whole bytes are the caller's again when the promise settles.
   */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts?: { ifAbsent?: boolean }): Promise<"created" | "exists">;
  head(key: string): Promise<ObjectMeta | null>;
  list(prefix: string): AsyncIterable<ObjectMeta>;
  delete(key: string): Promise<void>;
  /**
   * A host path at which the object can be read in place, for stores that have one
   * (the local folder store), else undefined. DuckDB scans payloads through it.
   */
  localPath?(key: string): string | undefined;
  /**
   * Writes the object's bytes to the host file `hostPath` (created, or truncated),
   * without passing them through JavaScript, for stores that can (S3, the local folder
   * store). Throws `ObjectNotFoundError` when the key is missing. Nothing is checked and
   * nothing is fsynced: on success the file holds what the store sent, on failure
   * anything; the caller hashes it, makes it durable, and removes it when it fails.
   */
  downloadTo?(key: string, hostPath: string): Promise<void>;
}

export interface ObjectMeta {
  key: string;
  size: number;
  /** ms since the epoch */
  lastModified: number;
}
