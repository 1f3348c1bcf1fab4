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

/** `init` where the folder, or a folder above it, is a file. */
export class PondDirIsFileError extends PondError {
  constructor(dir: string, file: string) {
    super(
      "pond_dir_is_file",
      file === dir ? `Cannot create a pond at "${dir}": it is a file, not a folder` : `Cannot create a pond at "${dir}": "${file}" is a file, not a folder`,
      {
        data: { dir, file },
        hint: "Choose a folder path (a new folder is made), or move the file out of the way.",
      },
    );
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

/** flock(2) failed for a reason other than another holder (ENOLCK on a network file system, …). */
export class LockFailedError extends PondError {
  constructor(lockPath: string, errno: number) {
    super("lock_failed", `Cannot lock "${lockPath}": flock(2) failed with errno ${errno}${errno === 37 ? " (ENOLCK: no locks available)" : ""}`, {
      kind: "user",
      data: { lockPath, errno },
      hint: "Put the pond on a local file system that supports flock(2), or check the folder's permissions.",
    });
  }
}

/** An environment setting (POND_LOCK_TIMEOUT, POND_COMMIT_ATTEMPTS, …) that is not a value it can take. */
export class BadSettingError extends PondError {
  constructor(name: string, value: string, expected: string, dflt: string) {
    super("bad_setting", `${name}=${JSON.stringify(value)} is not ${expected}`, {
      kind: "usage",
      data: { name, value },
      hint: `Unset it (default ${dflt}) or set it to ${expected}.`,
    });
  }
}

/** An --as-of that is neither a transaction sequence nor a time. */
export class BadAsOfError extends PondError {
  constructor(value: string) {
    super("bad_as_of", `--as-of "${value}" is neither a transaction sequence nor an ISO 8601 time`, {
      kind: "usage",
      data: { value },
      hint: "Give a sequence from `pond log` (e.g. --as-of 3) or a time like 2026-01-31T12:00:00Z.",
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

// --- Remotes: backup, restore, mirrors. Messages never carry a credential's value.

/** `--remote NAME` that is not recorded in control/remotes.json. */
export class RemoteNotFoundError extends PondError {
  constructor(name: string, known: string[]) {
    super("remote_not_found", `No remote named "${name}"${known.length ? ` (known: ${known.join(", ")})` : " (this pond has none)"}`, {
      data: { name, known },
      hint: "Add one with `pond remote add NAME s3://bucket/prefix` (or file:///folder); `pond remote list` shows them.",
    });
  }
}

/** `remote add` of a name already in use. */
export class RemoteExistsError extends PondError {
  constructor(name: string, url: string) {
    super("remote_exists", `A remote named "${name}" already exists (${url})`, {
      data: { name, url },
      hint: `Remove it first with \`pond remote remove ${name}\`, or choose another name.`,
    });
  }
}

/** A push, pull or verify with no remote named and none to choose. */
export class NoRemoteError extends PondError {
  constructor(what: string) {
    super("no_remote", `No remote to ${what}`, {
      kind: "usage",
      hint: "Name one (`pond remote list` shows them), or add one with `pond remote add NAME s3://bucket/prefix`.",
    });
  }
}

/** A remote URL, endpoint or option that cannot be used. */
export class BadRemoteError extends PondError {
  constructor(what: string, reason: string, hint?: string) {
    super("bad_remote", `Cannot use ${what}: ${reason}`, {
      kind: "usage",
      data: { what },
      hint: hint ?? "Remote URLs look like s3://bucket/prefix or file:///absolute/folder.",
    });
  }
}

/** A credential given literally on the command line. The value is not repeated anywhere. */
export class SecretOnCommandLineError extends PondError {
  constructor(option: string, envVar: string) {
    super("secret_on_command_line", `--${option} was given a literal value; Pond never stores secrets`, {
      kind: "usage",
      data: { option },
      hint: `Put the value in an environment variable and store a reference: --${option} '\${env:MY_VAR}' (single quotes, so the shell keeps it), or leave the option out and set ${envVar}.`,
    });
  }
}

/** A `${env:NAME}` reference whose variable is not set, or no credentials at all for an S3 remote. */
export class MissingCredentialsError extends PondError {
  constructor(remote: string, detail: string) {
    super("missing_credentials", `No credentials for remote "${remote}": ${detail}`, {
      data: { remote },
      hint: "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if needed), or the variables the remote's ${env:NAME} references name.",
    });
  }
}

/** The remote holds another pond. */
export class RemoteOwnedByOtherPondError extends PondError {
  constructor(url: string, remotePondId: string, localPondId: string, what: string) {
    super("remote_other_pond", `Cannot ${what} ${url}: it holds pond ${remotePondId}, and this pond is ${localPondId}`, {
      data: { url, remotePondId, localPondId },
      hint: "A remote belongs to one pond. Use another bucket or prefix for this pond.",
    });
  }
}

/** The location holds no pond backup (no identity object). */
export class NotAPondRemoteError extends PondError {
  constructor(url: string, detail: string) {
    super("not_a_pond_remote", `${url} holds no pond backup: ${detail}`, {
      data: { url },
      hint: "Check the URL and --endpoint; a pond is backed up there with `pond push`.",
    });
  }
}

/** Local and remote logs disagree: both have a version with different contents, or the remote is ahead of a pond that writes to it. */
export class RemoteDivergedError extends PondError {
  constructor(url: string, detail: string, hint: string, data: Record<string, unknown> = {}) {
    super("remote_diverged", `${url} and this pond have diverged: ${detail}`, { data: { url, ...data }, hint });
  }
}

/** An object on the remote (or arriving from it) that does not match its name, manifest or log. */
export class RemoteObjectCorruptError extends PondError {
  constructor(url: string, key: string, detail: string) {
    super("remote_object_corrupt", `Object ${key} in ${url} is corrupt: ${detail}`, {
      kind: "integrity",
      data: { url, key },
      hint: "Push again from the original pond to repair the remote (`pond push`), or restore from another copy.",
    });
  }
}

/** An object the remote's log refers to is not on the remote. */
export class RemoteObjectMissingError extends PondError {
  constructor(url: string, key: string, detail: string) {
    super("remote_object_missing", `Object ${key} is missing from ${url}: ${detail}`, {
      kind: "integrity",
      data: { url, key },
      hint: "Push again from the original pond to repair the remote (`pond push`).",
    });
  }
}

/** `restore` into a folder that is not empty. */
export class RestoreTargetError extends PondError {
  constructor(dir: string, detail: string) {
    super("restore_target", `Cannot restore into "${dir}": ${detail}`, {
      data: { dir },
      hint: "Restore into a new folder (it is created) or an empty one.",
    });
  }
}

/** `--as-of` names a snapshot that `pond maintain expire` expired. */
export class SnapshotExpiredError extends PondError {
  constructor(seq: number, horizon: number, expiredAt: string) {
    super("snapshot_expired", `Snapshot ${seq} was expired on ${expiredAt} (snapshots before ${horizon} can no longer be read)`, {
      data: { seq, horizon, expiredAt },
      hint: `Read --as-of ${horizon} or later, or restore the full history from a remote (\`pond restore\`).`,
    });
  }
}

/** A maintenance flag or `pond config` value that does not parse. */
export class BadMaintenanceOptionError extends PondError {
  constructor(what: string, value: string, expected: string, hint?: string) {
    super("bad_option", `${what} "${value}" is not valid: expected ${expected}`, {
      kind: "usage",
      data: { what, value },
      hint: hint ?? `Give ${what} as ${expected}.`,
    });
  }
}

/** `pond config set` of a key that is not a pond setting. */
export class UnknownConfigKeyError extends PondError {
  constructor(key: string, known: readonly string[]) {
    super("unknown_config_key", `"${key}" is not a pond setting`, {
      kind: "usage",
      data: { key },
      hint: `Use one of: ${known.join(", ")} (see \`pond config\`).`,
    });
  }
}
