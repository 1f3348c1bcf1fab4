/**
 * The CLI's own errors: the command line, and the host files a command reads or writes.
 * Each condition is a class with a stable `code`; `cli.ts` maps its kind to the exit code.
 */
import { PondError } from "@pond/diagnostics";

/** A command line the parser or a command refuses (exit 2). */
export class UsageError extends PondError {
  constructor(message: string, command?: string, hint?: string) {
    super("usage", message, { kind: "usage", hint: hint ?? `Run \`pond ${command ? command + " " : ""}--help\` for usage.` });
  }
}

/** A `host…:` endpoint that is not one Pond reads: an unknown format, a remote host, no path. */
export class BadEndpointError extends PondError {
  constructor(message: string, endpoint: string, hint: string) {
    super("bad_endpoint", message, { kind: "usage", data: { endpoint }, hint });
  }
}

/** A host file named on the command line that does not exist. */
export class HostNotFoundError extends PondError {
  constructor(path: string | Buffer, raw: string) {
    super("host_not_found", `Host file "${path}" does not exist (from "${raw}")`, {
      data: { path },
      hint: "Check the path; host files are written host:///absolute/path or host:relative/path.",
    });
  }
}

/** A host file this process may not read. */
export class HostPermissionError extends PondError {
  constructor(path: string | Buffer) {
    super("host_permission", `Cannot read host file "${path}": permission denied`, { data: { path }, hint: "Check the file's permissions." });
  }
}

/** A host path that is not a regular file or folder (a FIFO, a device, a /proc file…). */
export class HostNotRegularError extends PondError {
  constructor(path: string | Buffer, what: string, raw: string, hint: string) {
    super("host_not_regular", `Host file "${path}" is ${what}, not a regular file (from "${raw}")`, { data: { path }, hint });
  }
}

/** Two names in a host folder that read as the same pond name (one is not valid UTF-8). */
export class HostNameClashError extends PondError {
  constructor(folder: string, name: string) {
    super("host_name_clash", `Host folder "${folder}" holds two names that both read as "${name}" (one of them is not valid UTF-8)`, {
      data: { path: folder, name },
      hint: "Rename one of them on the host (e.g. with `convmv -f latin1 -t utf8`), then copy again.",
    });
  }
}

/** A host file replaced or truncated while it was being read. */
export class HostChangedError extends PondError {
  constructor(path: string, before: number, after: number) {
    super("host_changed", `Host file "${path}" was replaced or truncated while it was read (${before} bytes, then ${after})`, {
      data: { path, before, after },
      hint: "Copy it again once the program writing it is done.",
    });
  }
}

/** A host folder that leads back into itself, or a host symlink that is a loop. */
export class HostSymlinkLoopError extends PondError {
  constructor(path: string | Buffer, what: "folder" | "symlink") {
    super(
      "host_symlink_loop",
      what === "folder"
        ? `Host folder "${path}" leads back to a folder it is inside (a symlink loop)`
        : `Host symlink "${path}" is a loop (too many levels of symbolic links)`,
      {
        data: { path },
        hint:
          what === "folder"
            ? "Remove or fix that symlink, or copy with --no-dereference to store symlinks as links."
            : "Fix or remove that symlink, or copy with --no-dereference.",
      },
    );
  }
}

/** A host symlink whose target does not exist. */
export class HostDanglingSymlinkError extends PondError {
  constructor(path: string | Buffer, target: string | Buffer) {
    super("host_dangling_symlink", `Host symlink "${path}" points at "${target}", which does not exist`, {
      data: { path },
      hint: "Fix or remove that symlink, or copy with --no-dereference to store it as a link.",
    });
  }
}

/** `pond config set` without both a key and a value. */
export class ConfigSetArgsError extends PondError {
  constructor() {
    super("bad_config_set", "pond config set needs a KEY and a VALUE", {
      kind: "usage",
      hint: "e.g. `pond config set maintain.retention 14d`; `pond config` lists the keys.",
    });
  }
}

/** `pond collect` with no collector config in the pond. */
export class NoCollectorsError extends PondError {
  constructor(dir: string) {
    super("no_collectors", `No collector configs under ${dir}/`, {
      hint: `Add one: pond copy -p host:///path/hydrovu.yaml ${dir}/hydrovu.yaml`,
    });
  }
}

/** `pond reduce` with no reduction config in the pond. */
export class NoReductionsError extends PondError {
  constructor(dir: string) {
    super("no_reductions", `No reduction configs under ${dir}/`, {
      hint: `Add one: pond copy -p host:///path/lake.yaml ${dir}/lake.yaml (pond reduce --help shows an example)`,
    });
  }
}
