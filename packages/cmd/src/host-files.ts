import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from "node:fs";
import { isSystemError, PondError } from "@pond/diagnostics";

const CHUNK = 4 * 1024 * 1024;

/**
 * Streams a host file in 4 MiB chunks (each a fresh buffer the consumer may keep), up to
 * the size it had when it was opened: a log file still being written is stored as it was
 * then, not with a torn last line that arrived mid-copy.
 */
export async function* readHostFile(path: string): AsyncIterable<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    let left = fstatSync(fd).size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** stat of a host file the user named; a missing one is a clear user error. */
export function statHost(path: string, raw: string): { isDirectory: boolean; size: number } {
  let s: Stats;
  try {
    s = statSync(path);
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
  if (!s.isFile() && !s.isDirectory()) {
    const what = s.isFIFO() ? "a FIFO (named pipe)" : s.isSocket() ? "a socket" : s.isCharacterDevice() ? "a character device" : s.isBlockDevice() ? "a block device" : "not a regular file";
    throw new PondError("host_not_regular", `Host file "${path}" is ${what}, not a regular file (from "${raw}")`, {
      data: { path },
      hint: "Copy regular files only; to store a stream, write it to a file first (e.g. `head -c 1M /dev/urandom > f`).",
    });
  }
  // /proc and /sys files say they are empty regular files and then yield bytes that change as they are read.
  if (s.isFile() && /^\/(proc|sys)(\/|$)/.test(realpathSync(path))) {
    throw new PondError("host_not_regular", `Host file "${path}" is a kernel pseudo-file under /proc or /sys, not a regular file (from "${raw}")`, {
      data: { path },
      hint: "Save what you need first (e.g. `cat /proc/… > f`), then copy that file.",
    });
  }
  return { isDirectory: s.isDirectory(), size: s.size };
}
