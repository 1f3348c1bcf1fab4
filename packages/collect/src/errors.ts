import { PondError } from "@pond/diagnostics";

/**
 * A collector config that cannot be used: unknown key, missing key, wrong type, a literal
 * secret. Names the file and the key; never repeats a secret's value.
 */
export class CollectConfigError extends PondError {
  constructor(file: string, key: string | undefined, problem: string, hint?: string) {
    super("bad_collect_config", `Collector config "${file}"${key ? `, key "${key}"` : ""}: ${problem}`, {
      data: { file, key },
      hint: hint ?? "Fix the YAML and copy it again; `pond collect --help` lists the kinds.",
    });
  }
}

/** A `${env:NAME}` reference whose variable is not set when the collector runs. */
export class MissingSecretError extends PondError {
  constructor(file: string, key: string, variable: string) {
    super("missing_secret", `Collector config "${file}", key "${key}": it refers to \${env:${variable}}, which is not set`, {
      data: { file, key, variable },
      hint: `Set ${variable} in the environment of the process that runs \`pond collect\` (cron and systemd start with an almost empty one).`,
    });
  }
}

/** An HTTP request that failed for good (after retries, or at once for a 4xx). */
export class HttpRequestError extends PondError {
  constructor(
    readonly request: string,
    detail: string,
    readonly status?: number,
  ) {
    super("http_failed", `${request}: ${detail}`, { data: { request, status } });
  }
}

/** One collector's run failed; nothing of it was written. */
export class CollectRunError extends PondError {
  constructor(file: string, what: string, cause: string, hint?: string) {
    super("collect_failed", `Collector "${file}" failed (nothing written): ${what}: ${cause}`, {
      data: { file, what },
      hint: hint ?? "The next run starts from the same point, so nothing is lost; fix the cause (network, credentials, config) or just run again.",
    });
  }
}

/** A response the collector cannot use: bad JSON, a reading that is not a number. */
export class BadResponseError extends PondError {
  constructor(request: string, problem: string) {
    super("bad_response", `${request}: ${problem}`, { data: { request } });
  }
}

/** An inbox collector whose `from:` folder does not exist or is not a folder. */
export class InboxMissingError extends PondError {
  constructor(file: string, from: string) {
    super("inbox_missing", `Collector "${file}": the inbox folder "${from}" does not exist or is not a folder`, {
      data: { file, from },
      hint: "Create it, or fix from: in the config.",
    });
  }
}

/** An import `--profile` that names no profile Pond knows. */
export class UnknownProfileError extends PondError {
  constructor(name: string, known: readonly string[]) {
    super("unknown_profile", `--profile ${name} is not a known profile`, {
      kind: "usage",
      data: { profile: name },
      hint: `Use one of ${known.join(", ")}, or --sql for any other layout.`,
    });
  }
}

/** A file that does not have the layout its import profile expects. */
export class BadProfileFileError extends PondError {
  constructor(raw: string, what: string, expected: string) {
    super("bad_profile", `"${raw}" does not look like ${what}: expected ${expected}`, {
      data: { file: raw },
      hint: "Check the file, or import it with --sql.",
    });
  }
}

/** A YSI export imported without --timezone whose file name names no zone either. */
export class ProfileTimezoneError extends PondError {
  constructor(raw: string) {
    super("profile_needs_timezone", `"${raw}": a YSI export's times have no zone and its file name names none`, {
      kind: "usage",
      data: { file: raw },
      hint: "Give --timezone, e.g. --timezone America/Chicago.",
    });
  }
}
