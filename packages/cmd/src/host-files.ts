import { closeSync, openSync, readSync, statSync } from "node:fs";
import { isSystemError, PondError } from "@pond/diagnostics";

const CHUNK = 4 * 1024 * 1024;

/** Streams a host file in 4 MiB chunks (each a fresh buffer the consumer may keep). */
export async function* readHostFile(path: string): AsyncIterable<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      yield n === CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** stat of a host file the user named; a missing one is a clear user error. */
export function statHost(path: string, raw: string): { isDirectory: boolean; size: number } {
  try {
    const s = statSync(path);
    return { isDirectory: s.isDirectory(), size: s.size };
  } catch (e) {
    if (isSystemError(e, "ENOENT") || isSystemError(e, "ENOTDIR")) {
      throw new PondError("host_not_found", `Host file "${path}" does not exist (from "${raw}")`, {
        data: { path },
        hint: "Check the path; host files are written host:///absolute/path or host:relative/path.",
      });
    }
    if (isSystemError(e, "EACCES")) {
      throw new PondError("host_permission", `Cannot read host file "${path}": permission denied`, { data: { path }, hint: "Check the file's permissions." });
    }
    throw e;
  }
}
