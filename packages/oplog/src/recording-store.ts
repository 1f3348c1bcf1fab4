/**
 * Wraps an ObjectStore to record every call (method and key), so tests can count IO:
 * "this load fetched one checkpoint and 50 commits". A wrapper, not a subclass, so it
 * works around any backend.
 */
import type { ObjectMeta, ObjectStore } from "./object-store.ts";

export interface RecordedCall {
  op: "get" | "getStream" | "put" | "head" | "list" | "delete" | "downloadTo";
  /** The key, or the prefix for list. */
  key: string;
}

export function recordingStore(inner: ObjectStore): { store: ObjectStore; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const store: ObjectStore = {
    url: inner.url,
    get(key, range) {
      calls.push({ op: "get", key });
      return inner.get(key, range);
    },
    getStream(key, opts) {
      calls.push({ op: "getStream", key });
      return inner.getStream(key, opts);
    },
    put(key, body, opts) {
      calls.push({ op: "put", key });
      return inner.put(key, body, opts);
    },
    head(key): Promise<ObjectMeta | null> {
      calls.push({ op: "head", key });
      return inner.head(key);
    },
    list(prefix) {
      calls.push({ op: "list", key: prefix });
      return inner.list(prefix);
    },
    delete(key) {
      calls.push({ op: "delete", key });
      return inner.delete(key);
    },
  };
  if (inner.localPath) store.localPath = (key) => inner.localPath?.(key);
  const downloadTo = inner.downloadTo?.bind(inner);
  if (downloadTo) {
    store.downloadTo = (key, hostPath) => {
      calls.push({ op: "downloadTo", key });
      return downloadTo(key, hostPath);
    };
  }
  return { store, calls };
}
