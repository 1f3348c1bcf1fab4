import { PondError } from "@pond/diagnostics";

/** No pond was named: neither --pond nor $POND. */
export class NoPondError extends PondError {
  constructor() {
    super("no_pond", "No pond given", {
      kind: "usage",
      hint: "Name one with --pond DIR or set POND=DIR (create one with `pond init --pond DIR`).",
    });
  }
}

/** The folder is not a pond. */
export class NotAPondError extends PondError {
  constructor(dir: string, detail: string) {
    super("not_a_pond", `"${dir}" is not a pond: ${detail}`, {
      data: { dir },
      hint: `Create one with \`pond init --pond ${dir}\`, or check the --pond / $POND path.`,
    });
  }
}

/** `init` of a folder that already holds a pond. */
export class PondExistsError extends PondError {
  constructor(dir: string) {
    super("pond_exists", `"${dir}" already holds a pond`, {
      data: { dir },
      hint: "Use it as it is, or choose another folder for a new pond.",
    });
  }
}

/** Another process holds the write lock for longer than we wait. */
export class PondLockedError extends PondError {
  constructor(dir: string, holder: string, waitedMs: number) {
    super("pond_locked", `The pond "${dir}" is locked by ${holder} (waited ${Math.round(waitedMs / 1000)} s)`, {
      kind: "busy",
      data: { dir, holder, waitedMs },
      hint: "Wait for that command to finish and try again; set POND_LOCK_TIMEOUT (seconds) to wait longer.",
    });
  }
}

/** A write to a read-only mirror. */
export class MirrorReadOnlyError extends PondError {
  constructor(dir: string, remote: string) {
    super("mirror_read_only", `The pond "${dir}" is a read-only mirror of remote "${remote}"`, {
      data: { dir, remote },
      hint: `Bring it up to date with \`pond pull ${remote}\`; write to the original pond instead.`,
    });
  }
}
