import { EXIT_CODES, PondError } from "@pond/diagnostics";
import type { IO } from "./io.ts";

/**
 * The one place that decides how an error looks and which exit code it gets. A
 * PondError prints its message and hint; an error the operating system raised about the
 * machine (a full disk, no permission, a read-only file system, a file where a folder
 * must be) is the user's to fix and exits 1; anything else is a bug and prints the stack.
 */
export function renderError(e: unknown, io: IO): number {
  if (e instanceof PondError) {
    io.err.write(`pond: ${e.message}\n`);
    if (e.hint) io.err.write(`  ${e.hint}\n`);
    return EXIT_CODES[e.kind];
  }
  const system = systemProblem(e);
  if (system) {
    io.err.write(`pond: ${system.message}\n  ${system.hint}\n`);
    return EXIT_CODES.user;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err.write(`pond: this is a bug: ${err.message}\n${err.stack ?? ""}\nPlease report it with the command you ran.\n`);
  return EXIT_CODES.bug;
}

const AFTER_A_FAILED_WRITE = "Nothing was committed; `pond recover` removes what the failed command left.";

/**
 * The errno codes that describe the machine, not a mistake in Pond, each with what to do.
 * Only these: any other system error (ENOENT of a file Pond itself wrote, EBADF…) stays a bug.
 */
const SYSTEM_PROBLEMS: Record<string, { what: string; fix: string }> = {
  ENOSPC: { what: "the disk is full", fix: `Free space on that disk (or use one with room), then run the command again. ${AFTER_A_FAILED_WRITE}` },
  EDQUOT: { what: "the disk quota is used up", fix: `Free space within your quota, then run the command again. ${AFTER_A_FAILED_WRITE}` },
  EACCES: { what: "permission denied", fix: "Run as a user who may write there (check the owner and mode with `ls -ld`), or choose another folder." },
  EPERM: { what: "the operation is not permitted", fix: "Run as a user who may write there (check the owner, mode and attributes), or choose another folder." },
  EROFS: {
    what: "the file system is read-only",
    fix: "Read commands (list, cat, query, log) work on a read-only pond; to write, remount it read-write or copy the pond to a writable disk.",
  },
  ENOTDIR: { what: "a part of the path is a file, not a folder", fix: "Name a folder (or a path inside one), or move the file out of the way." },
  EISDIR: { what: "it is a folder, not a file", fix: "Name a file, or a path inside the folder." },
  ENAMETOOLONG: { what: "the name is too long for this file system", fix: "Use a shorter name or folder path." },
  EMFILE: { what: "too many files are open", fix: "Raise the limit (`ulimit -n`) and run the command again." },
  EIO: { what: "the disk reported an I/O error", fix: "Check the disk (dmesg, SMART); `pond verify` checks the pond's files once it is readable." },
};

function systemProblem(e: unknown): { message: string; hint: string } | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  // mkdir of a path that is a file: the destination is a file where a folder must be.
  const mkdirOnFile =
    err.code === "EEXIST" && err.syscall === "mkdir"
      ? { what: "a file is there, and a folder is needed", fix: "Name a folder as the destination, or move the file out of the way." }
      : undefined;
  const known = mkdirOnFile ?? (typeof err.code === "string" ? SYSTEM_PROBLEMS[err.code] : undefined);
  if (!known || typeof err.syscall !== "string") return undefined;
  const where = err.path ? ` "${err.path}"${err.dest ? ` → "${err.dest}"` : ""}` : "";
  return { message: `Cannot ${err.syscall}${where}: ${known.what} (${err.code})`, hint: known.fix };
}
