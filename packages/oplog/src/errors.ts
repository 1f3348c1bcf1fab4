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
      data: { url, ...data },
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
