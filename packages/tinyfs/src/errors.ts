import { PondError } from "@pond/diagnostics";

/** A path, node or version that does not exist. */
export class NotFoundError extends PondError {
  constructor(what: string, hint?: string, data: Record<string, unknown> = {}) {
    super("not_found", `${what} does not exist`, { data: { what, ...data }, hint });
  }
}

/** A path that already exists where a new one was asked for. */
export class AlreadyExistsError extends PondError {
  constructor(path: string, hint?: string) {
    super("already_exists", `"${path}" already exists`, { data: { path }, hint });
  }
}

/**
 * A directory's entry list that names one entry twice. WD never builds one, so reaching a
 * backend with it is a bug in the caller, not a user's mistake.
 */
export class DuplicateNameError extends PondError {
  constructor(dirId: string, name: string) {
    super("duplicate_name", `Directory ${dirId} would list ${JSON.stringify(name)} twice`, {
      kind: "bug",
      data: { dirId, name },
      hint: "This is a bug in pond: a directory snapshot must name each entry once.",
    });
  }
}

/** A malformed pond path (escapes "/", empty name, NUL, name over 255 bytes). */
export class InvalidPathError extends PondError {
  constructor(path: string, reason: string) {
    super("invalid_path", `Invalid pond path "${path}": ${reason}`, {
      kind: "user",
      data: { path, reason },
      hint: "Pond paths are absolute, /-separated names; '..' never goes above '/'.",
    });
  }
}

/** A new entry's name that a pond refuses: control characters, or not valid UTF-8. */
export class InvalidNameError extends PondError {
  constructor(name: string, reason: string) {
    super("invalid_name", `Cannot create ${JSON.stringify(name)}: ${reason}`, {
      kind: "user",
      data: { name, reason },
      hint: "Give the entry a name without control characters (newline, tab, ESC…) in valid UTF-8, e.g. `pond copy SRC /folder/NEW-NAME` or `pond mv OLD NEW`.",
    });
  }
}

/** A directory where a file was expected, or the other way round. */
export class WrongTypeError extends PondError {
  constructor(path: string, actual: string, expected: string, hint?: string) {
    super("wrong_type", `"${path}" is a ${actual}, not a ${expected}`, { data: { path, actual, expected }, hint });
  }
}

/** Writing a version of a different entry type to an existing node. */
export class TypeChangeError extends PondError {
  constructor(path: string, from: string, to: string, hint?: string) {
    super("type_change", `"${path}" is a ${from}; writing a ${to} there would change its type`, {
      data: { path, from, to },
      hint: hint ?? `Remove it first with \`pond rm ${path}\` (earlier versions stay readable with --as-of), or copy to a new path to store a ${to}.`,
    });
  }
}

/** Stored bytes that do not match their recorded hash or size. */
export class IntegrityError extends PondError {
  constructor(what: string, detail: string, data: Record<string, unknown> = {}, hint = "Restore the pond from a backup, or run `pond recover`.") {
    super("integrity", `Integrity failure in ${what}: ${detail}`, {
      kind: "integrity",
      data: { what, ...data },
      hint,
    });
  }
}

/** A write through a read-only working directory (a view, not a transaction). */
export class ReadOnlyError extends PondError {
  constructor(path: string, operation: string) {
    super("read_only", `Cannot ${operation} "${path}": this view of the pond is read-only`, {
      kind: "bug",
      data: { path, operation },
      hint: "Write inside a transaction (FS.transaction, or a WD made from a Transaction).",
    });
  }
}

/** A chain of symlinks longer than the limit, usually a loop. */
export class SymlinkLoopError extends PondError {
  constructor(path: string, limit: number) {
    super("symlink_loop", `Too many levels of symbolic links resolving "${path}" (more than ${limit})`, {
      data: { path, limit },
      hint: "A symlink on this path points back at itself; fix it with `pond describe` and rewrite the link.",
    });
  }
}

/** Another transaction committed first on the same base state. */
export class TransactionConflictError extends PondError {
  constructor(baseSeq: number, currentSeq: number, attempts = 1) {
    super(
      "commit_conflict",
      `Another transaction committed sequence ${currentSeq} after this one began at ${baseSeq}${attempts > 1 ? ` (gave up after ${attempts} attempts)` : ""}`,
      {
        kind: "busy",
        data: { baseSeq, currentSeq, attempts },
        hint: "Run the command again; if it keeps happening, look for another writer with `pond log`.",
      },
    );
  }
}

/** A transaction used after `commit` or `abort`: a bug in the caller. */
export class TransactionClosedError extends PondError {
  constructor(operation: string) {
    super("transaction_closed", `Cannot ${operation}: the transaction was already committed or aborted`, {
      kind: "bug",
      data: { operation },
      hint: "This is a bug in pond: a transaction was used after it ended.",
    });
  }
}

/** A directory where an operation on a file was asked for without saying it may recurse (`rm` without `-r`). */
export class IsDirectoryError extends PondError {
  constructor(path: string, operation: string, hint: string) {
    super("is_directory", `Cannot ${operation} "${path}": it is a directory`, { data: { path, operation }, hint });
  }
}

/** A move the tree cannot take: a directory into itself, the root, onto an entry of another type. */
export class InvalidMoveError extends PondError {
  constructor(from: string, to: string, reason: string, hint: string) {
    super("invalid_move", `Cannot move "${from}" to "${to}": ${reason}`, { data: { from, to, reason }, hint });
  }
}
