import { PondError } from "@pond/diagnostics";

/** Another writer committed the version this transaction meant to write. */
export class CommitConflictError extends PondError {
  constructor(version: number, attempts: number) {
    super("commit_conflict", `Another writer committed data log version ${version} first (after ${attempts} attempt(s))`, {
      kind: "busy",
      data: { version, attempts },
      hint: "Run the command again; if it keeps happening, check for a runaway writer with `pond log`.",
    });
  }
}

/** A pond data table that is not in the shape tlogfs writes. */
export class PondFormatError extends PondError {
  constructor(what: string, detail: string) {
    super("pond_format", `${what}: ${detail}`, {
      kind: "integrity",
      data: { what },
      hint: "This folder may not be a pond, or was written by a newer version of pond.",
    });
  }
}
