/**
 * Every error the oplog package throws on purpose. Each has a stable `code`, the
 * values its message names in `data`, and a `kind` that decides the CLI exit code.
 * A commit conflict is not here: `commit()` returns it as a result.
 */
import { PondError } from "@pond/diagnostics";

/** `ObjectStore.get` of a key that does not exist (the contract requires this class). */
export class ObjectNotFoundError extends PondError {
  constructor(url: string, key: string) {
    super("object_not_found", `Cannot read "${key}" in ${url}: no such object`, { data: { url, key } });
    this.name = "ObjectNotFoundError";
  }
}

/** A store key that is not a relative `/`-separated path (empty, absolute, `..`). */
export class InvalidKeyError extends PondError {
  constructor(key: string, reason: string) {
    super("invalid_key", `Invalid object key "${key}": ${reason}`, {
      kind: "bug",
      data: { key, reason },
      hint: "Keys are relative paths like `_delta_log/00000000000000000000.json`.",
    });
    this.name = "InvalidKeyError";
  }
}

/** A location with no `_delta_log` commits or checkpoints at all. */
export class TableNotFoundError extends PondError {
  constructor(url: string) {
    super("table_not_found", `Cannot open Delta table at ${url}: there is no _delta_log, so it is not a Delta table`, {
      data: { url },
      hint: "Check the path; a pond's table is its `data` folder.",
    });
    this.name = "TableNotFoundError";
  }
}

/** A version (or a time) the log cannot produce: after the latest, or cleaned up. */
export class VersionNotFoundError extends PondError {
  constructor(url: string, what: string, reason: string, data: Record<string, unknown> = {}) {
    super("version_not_found", `Cannot read Delta table at ${url}: ${what} ${reason}`, {
      data: { url, what, reason, ...data },
      hint: "`pond show` lists the versions that exist.",
    });
    this.name = "VersionNotFoundError";
  }
}

/** A protocol or action this reader does not implement (deletion vectors, column mapping…). */
export class UnsupportedFeatureError extends PondError {
  constructor(url: string, feature: string, problem = `reader feature "${feature}" is not supported`) {
    super("unsupported_feature", `Cannot read Delta table at ${url}: ${problem}`, {
      data: { url, feature },
      hint: "Rewrite the table without this feature (e.g. with Spark or delta-rs) to read it here.",
    });
    this.name = "UnsupportedFeatureError";
  }
}

/** A log file (commit, checkpoint, `_last_checkpoint`) or snapshot blob that is missing or malformed. */
export class CorruptLogError extends PondError {
  constructor(file: string, reason: string, cause?: unknown) {
    super("corrupt_log", `Corrupt Delta log: ${file} ${reason}`, {
      kind: "integrity",
      data: { file, reason },
      hint: "Restore the file from a backup (`pond restore`), or report it if it came from Pond.",
      cause,
    });
    this.name = "CorruptLogError";
  }
}

/**
 * Bytes a decoder (Parquet, Arrow IPC) cannot read: truncated, damaged, or of a layout it
 * does not take. Raised only around the decoding itself, so a caller that knows what the
 * bytes are (a log file, an entry file) translates exactly this into CorruptLogError,
 * and a bug in Pond's own code is never reported as a damaged file.
 */
export class UndecodableError extends PondError {
  constructor(format: string, detail: string, cause?: unknown) {
    super("undecodable", `Cannot decode ${format}: ${detail}`, {
      kind: "integrity",
      data: { format, detail },
      hint: "The bytes are damaged or were not written by Pond; restore the file from a backup.",
      cause,
    });
    this.name = "UndecodableError";
  }
}

/** Rows handed to `writeEntryFile` that belong to another partition than the one named. */
export class EntryPartitionError extends PondError {
  constructor(partId: string, rowPartId: string, nodeId: string) {
    super("entry_partition_mismatch", `Cannot write entry file for part_id ${partId}: row of node ${nodeId} has part_id ${rowPartId}`, {
      kind: "bug",
      data: { partId, rowPartId, nodeId },
    });
    this.name = "EntryPartitionError";
  }
}

// --- Remote object stores (S3). Messages name the store URL and endpoint, never a credential.

/** The store's endpoint cannot be reached: nothing listens, the name does not resolve, or the connection broke. */
export class RemoteUnreachableError extends PondError {
  constructor(url: string, endpoint: string, detail: string) {
    super("remote_unreachable", `Cannot reach ${url} at ${endpoint}: ${detail}`, {
      data: { url, endpoint, detail },
      hint: "Check the endpoint (`pond remote list`) and that the server is up; then run the command again.",
    });
    this.name = "RemoteUnreachableError";
  }
}

/** A request to the store took longer than its time limit (the server accepted but did not answer). */
export class RemoteTimeoutError extends PondError {
  constructor(url: string, endpoint: string, what: string, ms: number) {
    super("remote_timeout", `Timed out after ${(ms / 1000).toFixed(1)} s waiting for ${url} at ${endpoint} (${what})`, {
      data: { url, endpoint, what, ms },
      hint: "The server accepted the connection but did not answer. Check it, or raise POND_REMOTE_TIMEOUT (seconds).",
    });
    this.name = "RemoteTimeoutError";
  }
}

/** The store refused the credentials (unknown key, bad signature, expired token, no permission). */
export class RemoteAccessDeniedError extends PondError {
  constructor(url: string, endpoint: string, s3Code: string) {
    super("remote_access_denied", `${url} at ${endpoint} refused the credentials (${s3Code})`, {
      data: { url, endpoint, s3Code },
      hint: "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or the variables the remote's ${env:NAME} references name; `pond remote list` shows them.",
    });
    this.name = "RemoteAccessDeniedError";
  }
}

/** The bucket does not exist at the endpoint. */
export class RemoteBucketNotFoundError extends PondError {
  constructor(url: string, endpoint: string, bucket: string) {
    super("remote_bucket_not_found", `Bucket "${bucket}" of ${url} does not exist at ${endpoint}`, {
      data: { url, endpoint, bucket },
      hint: "Create the bucket first, or check the remote's URL, --endpoint and --region.",
    });
    this.name = "RemoteBucketNotFoundError";
  }
}

/** Any other error answer from the store, with the server's code. */
export class RemoteRequestError extends PondError {
  constructor(url: string, endpoint: string, what: string, s3Code: string, detail: string) {
    super("remote_error", `${url} at ${endpoint} failed ${what}: ${s3Code}${detail ? ` (${detail})` : ""}`, {
      data: { url, endpoint, what, s3Code },
      hint: "Run the command again; if it keeps failing, check the server's logs.",
    });
    this.name = "RemoteRequestError";
  }
}
