/**
 * The base error of every Pond package. `code` is stable (tests and the CLI switch on
 * it), `data` carries the values the message names, `hint` says what to do, and
 * `kind` decides the CLI exit code. Each package declares its own subclasses in one
 * `errors.ts`; only `cmd`'s entry point decides how an error looks.
 */
export type ErrorKind =
  | "user" // the user can fix it: not found, already exists, bad input (exit 1)
  | "usage" // the command line is wrong (exit 2)
  | "busy" // the pond is locked, or a commit lost every retry (exit 3)
  | "integrity" // a hash or a file does not match the log (exit 4)
  | "bug"; // an invariant broke (exit 70)

export class PondError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly data: Record<string, unknown>;
  readonly hint?: string;

  constructor(code: string, message: string, opts: { kind?: ErrorKind; data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "PondError";
    this.code = code;
    this.kind = opts.kind ?? "user";
    this.data = opts.data ?? {};
    this.hint = opts.hint;
  }
}

/** Exit codes of the CLI, one per error kind. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  user: 1,
  usage: 2,
  busy: 3,
  integrity: 4,
  bug: 70,
};

/** True when `e` is a Node/Bun system error with the given errno code (ENOENT, EEXIST…). */
export function isSystemError(e: unknown, code: string): e is NodeJS.ErrnoException {
  return typeof e === "object" && e !== null && (e as NodeJS.ErrnoException).code === code;
}

/**
 * True when the disk refused a write: no permission, a read-only file system, no space
 * or no quota left. Derived data (caches) that cannot be written is then skipped, so a
 * pond on a full or read-only disk can still be read.
 */
export function isWriteRefused(e: unknown): e is NodeJS.ErrnoException {
  return ["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT"].some((code) => isSystemError(e, code));
}
