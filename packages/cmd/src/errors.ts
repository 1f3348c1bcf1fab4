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
