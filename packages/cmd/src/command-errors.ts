/**
 * Errors of the commands whose code belongs to a lower package's class (not_found,
 * type_change, wrong_type, not_queryable, bad_option): each subclass keeps that class,
 * and so its code and kind, and words the message for the command.
 *
 * Kept apart from errors.ts on purpose: the argument parser loads errors.ts on every
 * start, and importing steward, tinyfs and tlogfs from there made `pond mkdir --help`
 * 57 -> 76 ms (median of 25 interleaved runs, 2026-12-07). Commands load this file.
 */
import { BadMaintenanceOptionError } from "@pond/steward";
import { NotFoundError, TypeChangeError, WrongTypeError } from "@pond/tinyfs";
import { NotQueryableError } from "@pond/tlogfs";

/** `pond diff --rows` of a path that exists at neither transaction. */
export class DiffPathNotFoundError extends NotFoundError {
  constructor(path: string) {
    super(`"${path}"`, "Check it with `pond list --as-of SEQ`.", { path });
    this.message = `"${path}" does not exist at either transaction`;
  }
}

/** `pond diff --rows` of a path whose type differs between the two transactions. */
export class DiffTypeChangeError extends TypeChangeError {
  constructor(path: string, from: string, to: string) {
    super(path, from, to, "Compare it with `pond cat --as-of` at each.");
    this.message = `"${path}" is a ${from} at the first transaction and a ${to} at the second`;
  }
}

/** `pond mv` of several sources to a destination that is not a directory. */
export class MoveDestinationError extends NotFoundError {
  constructor(what: string, dest: string, destType: string | undefined) {
    super(`"${dest}"`, `Create it first with \`pond mkdir ${dest}\`.`, { path: dest });
    this.message = `${what}; "${dest}" ${destType ? `is a ${destType}` : "does not exist"}`;
  }
}

/** `pond copy` of a host folder onto a pond file. */
export class CopyFolderOntoFileError extends WrongTypeError {
  constructor(src: string, dest: string) {
    super(dest, "file", "directory", "Copy it into a directory instead.");
    this.message = `Cannot copy folder "${src}" onto file "${dest}"`;
  }
}

/** `pond cat --sql` of a path that is not a table or series. */
export class CatNotQueryableError extends NotQueryableError {
  constructor(path: string, entryType: string) {
    super(path, entryType);
    this.message = `"${path}" is a ${entryType}; --sql needs a table or series`;
  }
}

/** A `pond maintain` option given to an action that does not take it, or missing where needed. */
export class MaintainOptionError extends BadMaintenanceOptionError {
  constructor(message: string, what: string, value: string, hint: string) {
    super(what, value, "", hint);
    this.message = message;
  }
}
