/**
 * The one module that calls libc through Bun's FFI: `flock(2)` for the write lock,
 * `isatty(3)` for the CLI (Node's tty machinery costs ~10 ms before it answers) and, on
 * Linux, `sync_file_range(2)` to start writing a large payload back while it is still
 * being copied, and `sched_setscheduler(2)` to move one thread to idle priority
 * (restore's hashing threads). The
 * library is opened on first use, once, with every symbol Pond needs. A call that fails
 * reports its errno, read right after the call on the same thread, so a caller can
 * handle the one failure it means (EWOULDBLOCK) and name any other.
 */
import { PondError } from "./errors.ts";

interface LibcSymbols {
  flock(fd: number, op: number): number;
  isatty(fd: number): number;
  /** Linux only (undefined elsewhere). */
  syncFileRange?(fd: number, offset: number, nbytes: number, flags: number): number;
  /** Linux only (undefined elsewhere). */
  schedSetscheduler?(pid: number, policy: number, param: Int32Array): number;
  errnoLocation(): number | null;
}

/** flock(2) operations. */
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** errno values Pond tells apart (Linux and macOS agree on these). */
export const EINTR = 4;
export const EWOULDBLOCK = process.platform === "darwin" ? 35 : 11;

const LIBRARY = process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6";

let loaded: { symbols: LibcSymbols } | { error: Error } | undefined;

/** libc's symbols, or the reason it could not be opened (a platform without `libc.so.6`). */
function open(): { symbols: LibcSymbols } | { error: Error } {
  if (loaded) return loaded;
  try {
    const { dlopen, FFIType, read } = require("bun:ffi") as typeof import("bun:ffi");
    const lib = dlopen(LIBRARY, {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      isatty: { args: [FFIType.i32], returns: FFIType.i32 },
      ...(process.platform === "linux"
        ? {
            sync_file_range: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.u32], returns: FFIType.i32 },
            sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
          }
        : {}),
      [process.platform === "darwin" ? "__error" : "__errno_location"]: { args: [], returns: FFIType.ptr },
    });
    const s = lib.symbols as unknown as Record<string, (...a: number[]) => number>;
    const errnoAt = (process.platform === "darwin" ? s.__error : s.__errno_location) as unknown as () => number | null;
    loaded = {
      symbols: {
        flock: (fd, op) => s.flock!(fd, op),
        isatty: (fd) => s.isatty!(fd),
        schedSetscheduler: s.sched_setscheduler
          ? (pid, policy, param) => (s.sched_setscheduler as unknown as (p: number, q: number, r: Int32Array) => number)(pid, policy, param)
          : undefined,
        syncFileRange: s.sync_file_range ? (fd, offset, nbytes, flags) => s.sync_file_range!(fd, offset, nbytes, flags) : undefined,
        errnoLocation: () => {
          const p = errnoAt();
          return p === null ? null : read.i32(p as never, 0);
        },
      },
    };
  } catch (e) {
    loaded = { error: e as Error };
  }
  return loaded;
}

/** Raised when libc cannot be opened and the caller has no other way (the write lock). */
export class LibcUnavailableError extends PondError {
  constructor(what: string, cause: Error) {
    super("libc_unavailable", `Cannot ${what}: ${LIBRARY} could not be loaded (${cause.message})`, {
      kind: "bug",
      data: { library: LIBRARY, what },
      hint: "Pond needs the C library of a Linux or macOS system; run it there.",
      cause,
    });
  }
}

/**
 * flock(2) on `fd`: `{ok: true}`, or `{ok: false, errno}` with the errno of the failed call.
 * Throws LibcUnavailableError when libc cannot be opened.
 */
export function flock(fd: number, op: number): { ok: true } | { ok: false; errno: number } {
  const lib = open();
  if ("error" in lib) throw new LibcUnavailableError("lock a file", lib.error);
  if (lib.symbols.flock(fd, op) === 0) return { ok: true };
  return { ok: false, errno: lib.symbols.errnoLocation() ?? -1 };
}

/**
 * isatty(3), or undefined when libc cannot be opened: then the caller asks Node's
 * streams instead, which answer the same question, only slower.
 */
export function isattyLibc(fd: number): boolean | undefined {
  const lib = open();
  if ("error" in lib) return undefined;
  return lib.symbols.isatty(fd) === 1;
}

/** sync_file_range(2)'s SYNC_FILE_RANGE_WRITE: start writeback of the range's dirty pages, without waiting. */
const SYNC_FILE_RANGE_WRITE = 2;

/**
 * Starts writing `[offset, offset + length)` of `fd` back to disk, without waiting
 * (Linux `sync_file_range(2)`), so a later fsync of a large file finds most of it
 * written: copying 1 GiB then took ~1.0 s where writing it all first and syncing after
 * took 1.0–2.0 s. Only a hint: it makes nothing durable (the caller still fsyncs), so
 * where there is no such call (macOS, libc not loadable) it does nothing, and a failed
 * call (an fd that cannot take it) is reported as false for the caller to stop asking.
 */
export function startWriteback(fd: number, offset: number, length: number): boolean {
  const lib = open();
  if ("error" in lib || !lib.symbols.syncFileRange) return false;
  return lib.symbols.syncFileRange(fd, offset, length, SYNC_FILE_RANGE_WRITE) === 0;
}

/** sched_setscheduler(2) policies (Linux). */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/**
 * Moves the calling thread alone (Linux: pid 0 names the calling thread, not the
 * process) to the SCHED_IDLE policy, or back to SCHED_OTHER at nice 0. An idle thread
 * runs only on CPU nothing else in its group wants, and any other thread that wakes
 * preempts it at once (a nice-19 thread may keep the CPU for the rest of its slice).
 * Going back needs the privilege (root, CAP_SYS_NICE or RLIMIT_NICE ≥ 20), else EPERM.
 * Elsewhere, or without libc, it does nothing: `{ok: false, errno: null}`.
 */
export function setThreadIdle(idle: boolean): { ok: true } | { ok: false; errno: number | null } {
  const lib = open();
  if ("error" in lib || !lib.symbols.schedSetscheduler) return { ok: false, errno: null };
  if (lib.symbols.schedSetscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, new Int32Array(1)) === 0) return { ok: true };
  return { ok: false, errno: lib.symbols.errnoLocation() ?? -1 };
}
