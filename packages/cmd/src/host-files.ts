import { readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { isSystemError } from "@pond/diagnostics";
import { FileContent } from "@pond/tlogfs";
import { HostNameClashError, HostNotFoundError, HostNotRegularError, HostPermissionError } from "./errors.ts";

/**
 * Streams a host file (tlogfs `FileContent`: 4 MiB chunks, each a fresh buffer the
 * consumer may keep), up to the size it had when it was opened (or `limit` bytes, when
 * the caller measured the file earlier): a log file still being written is stored as it
 * was then, not with a torn last line that arrived mid-copy. `path` may be bytes: host
 * names need not be UTF-8. A local pond's store copies it without the stream.
 */
export function readHostFile(path: string | Buffer, opts: { limit?: number } = {}): FileContent {
  return new FileContent(path, opts);
}

/** One entry of a host folder: its pond name, and the host path that reaches it (bytes when its name is not UTF-8). */
export interface HostChild {
  name: string;
  path: string | Buffer;
  /** True when the host name is not valid UTF-8 and `name` spells its odd bytes as \xNN. */
  escaped: boolean;
}

/**
 * The entries of host folder `dir`, sorted by pond name. Names are read as bytes: a name
 * that is not valid UTF-8 (written by an older system in Latin-1, say) would otherwise be
 * decoded with U+FFFD, and the path built from it would not exist. Its pond name keeps
 * the valid characters and spells each odd byte as `\xNN` (as Python's backslashreplace
 * and `ls -b` do); two host names that would get the same pond name are refused, never
 * merged into one file.
 */
export function listHostFolder(dir: string | Buffer): HostChild[] {
  const base = typeof dir === "string" ? Buffer.from(dir) : dir;
  const out: HostChild[] = [];
  for (const raw of readdirSync(dir, { encoding: "buffer" }) as Buffer[]) {
    const { name, escaped } = pondNameOf(raw);
    const bytes = Buffer.concat([base, Buffer.from("/"), raw]);
    out.push({ name, escaped, path: escaped ? bytes : bytes.toString("utf8") });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) {
      throw new HostNameClashError(base.toString("utf8"), out[i]!.name);
    }
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A host name as a pond name: itself when it is valid UTF-8, else with each byte that is not part of a valid character spelled \xNN. */
export function pondNameOf(raw: Uint8Array): { name: string; escaped: boolean } {
  try {
    return { name: strictUtf8.decode(raw), escaped: false };
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  let name = "";
  for (let i = 0; i < raw.length; ) {
    // The shortest slice from here that decodes is exactly one character (a lead byte
    // needs all its continuation bytes); none up to 4 bytes means this byte is odd.
    let taken = 0;
    for (let k = 1; k <= 4 && i + k <= raw.length && taken === 0; k++) {
      try {
        name += strictUtf8.decode(raw.subarray(i, i + k));
        taken = k;
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
      }
    }
    if (taken === 0) {
      name += `\\x${raw[i]!.toString(16).toUpperCase().padStart(2, "0")}`;
      taken = 1;
    }
    i += taken;
  }
  return { name, escaped: true };
}

/** stat of a host file the user named; a missing one is a clear user error. */
export function statHost(path: string | Buffer, raw: string): { isDirectory: boolean; size: number } {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    if (isSystemError(e, "ENOENT") || isSystemError(e, "ENOTDIR")) {
      throw new HostNotFoundError(path, raw);
    }
    if (isSystemError(e, "EACCES")) {
      throw new HostPermissionError(path);
    }
    throw e;
  }
  if (!s.isFile() && !s.isDirectory()) {
    const what = s.isFIFO()
      ? "a FIFO (named pipe)"
      : s.isSocket()
        ? "a socket"
        : s.isCharacterDevice()
          ? "a character device"
          : s.isBlockDevice()
            ? "a block device"
            : "not a regular file";
    throw new HostNotRegularError(
      path,
      what,
      raw,
      "Copy regular files only; to store a stream, write it to a file first (e.g. `head -c 1M /dev/urandom > f`).",
    );
  }
  // /proc and /sys files say they are empty regular files and then yield bytes that change as they are read.
  if (s.isFile() && /^\/(proc|sys)(\/|$)/.test(realpathSync(path))) {
    throw new HostNotRegularError(
      path,
      "a kernel pseudo-file under /proc or /sys",
      raw,
      "Save what you need first (e.g. `cat /proc/… > f`), then copy that file.",
    );
  }
  return { isDirectory: s.isDirectory(), size: s.size };
}
