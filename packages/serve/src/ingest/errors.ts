/**
 * Streaming ingest's errors. Each has a stable `code` (the CLI's exit code comes from its
 * kind) and `status`, the HTTP status `POST /ingest` answers with; the reply's JSON body
 * carries the code, the message and `data` (the line and column at fault).
 */
import { PondError } from "@pond/diagnostics";

/** An ingest error as an HTTP answer: the status beside the PondError. */
export interface HttpStatusError {
  readonly status: number;
}

/**
 * A request (or a line of standard input) that cannot be taken: malformed JSON or CSV, a
 * value of the wrong type, a missing timestamp. Names the line (1-based, of the body) and
 * the column; nothing of the request was applied.
 */
export class IngestBadInputError extends PondError implements HttpStatusError {
  readonly status = 400;
  constructor(line: number | undefined, problem: string, column?: string, hint?: string, unit = "Line") {
    super("bad_ingest_input", `${line !== undefined ? `${unit} ${line}` : "The body"}${column !== undefined ? `, column "${column}"` : ""}: ${problem}`, {
      data: { line, column, problem },
      hint: hint ?? "Fix the line and send the whole batch again: nothing of it was taken.",
    });
  }
}

/** The destination's parent folder does not exist (a new series is only made inside an existing folder). */
export class IngestUnknownDestinationError extends PondError implements HttpStatusError {
  readonly status = 404;
  constructor(path: string, missing: string) {
    super("ingest_unknown_destination", `Cannot ingest into "${path}": directory "${missing}" does not exist`, {
      data: { path, missing },
      hint: `Create it first (\`pond mkdir -p ${missing}\`), or check the path.`,
    });
  }
}

/** The destination exists but is not something rows go into (a directory, a data file), or rows of the wrong kind for it. */
export class IngestWrongDestinationError extends PondError implements HttpStatusError {
  readonly status = 409;
  constructor(path: string, problem: string, hint: string) {
    super("ingest_wrong_destination", `Cannot ingest into "${path}": ${problem}`, { data: { path, problem }, hint });
  }
}

/** Another process (`pond serve` or `pond ingest`) is ingesting into this pond: one write-ahead file owner at a time. */
export class IngestLockedError extends PondError implements HttpStatusError {
  readonly status = 503;
  constructor(lockPath: string, holder: string) {
    super("ingest_locked", `Another process is ingesting into this pond (${holder}; lock ${lockPath})`, {
      kind: "busy",
      data: { lockPath, holder },
      hint: "Send the rows to that process, or stop it first; its write-ahead file is replayed by the next one.",
    });
  }
}

/** A flag of `pond ingest`/`pond serve` for ingest that is not a size, duration or column list. */
export class IngestOptionError extends PondError {
  constructor(flag: string, value: string, expected: string) {
    super("bad_ingest_option", `--${flag} "${value}" is not ${expected}`, { kind: "usage", data: { flag, value }, hint: `Give --${flag} as ${expected}.` });
  }
}

/** A write-ahead record that is not the last one and cannot be read: damage, not a torn write. */
export class IngestWalDamagedError extends PondError {
  constructor(file: string, line: number, problem: string) {
    super("ingest_wal_damaged", `Write-ahead file "${file}" is damaged at line ${line}: ${problem}`, {
      kind: "integrity",
      data: { file, line },
      hint: "Move the file aside to start without it (its rows were acknowledged but not committed: re-send them), or restore it from a backup.",
    });
  }
}

/** The HTTP status for an error `POST /ingest` answers with: an ingest error's own, a PondError's by kind, else 500. */
export function statusOf(e: unknown): number {
  if (e instanceof PondError && typeof (e as Partial<HttpStatusError>).status === "number") return (e as unknown as HttpStatusError).status;
  if (e instanceof PondError) return e.kind === "busy" ? 503 : e.kind === "user" || e.kind === "usage" ? 400 : 500;
  return 500;
}

/** A flush could not write its version (the pond's own error, from the flush thread, is quoted); its rows stay buffered and in the write-ahead file. */
export class IngestFlushError extends PondError implements HttpStatusError {
  readonly status = 503;
  constructor(cause: string, message: string, hint?: string) {
    super("ingest_flush_failed", `Flushing ingested rows failed (${cause}): ${message}`, {
      data: { cause },
      hint: hint ?? "The rows stay in the write-ahead file and are flushed again at the next threshold or restart.",
    });
  }
}

/** Write-ahead records left by an earlier process name a destination that cannot be used now (its folder gone, its type changed). */
export class IngestReplayError extends PondError {
  constructor(dest: string, files: readonly string[], problem: string) {
    super("ingest_replay_failed", `Cannot replay the write-ahead file of "${dest}": ${problem}`, {
      data: { dest, files },
      hint: `Make the destination usable again (e.g. recreate its directory) and start again, or move ${files.join(", ")} aside to start without those rows (they were acknowledged but never committed).`,
    });
  }
}
