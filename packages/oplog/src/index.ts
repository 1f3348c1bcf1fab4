export type { ObjectMeta, ObjectStore } from "./object-store.ts";
export type { OplogEntry } from "./oplog-entry.ts";
export { LocalObjectStore } from "./local-store.ts";
export { MemoryObjectStore } from "./memory-store.ts";
export { S3ObjectStore, type S3StoreOptions } from "./s3-store.ts";
export { recordingStore, type RecordedCall } from "./recording-store.ts";
export { runObjectStoreContract } from "./object-store-contract.ts";
export {
  parseActions,
  serializeActions,
  type Action,
  type AddAction,
  type CommitInfo,
  type Format,
  type Metadata,
  type OtherAction,
  type Protocol,
  type RemoveAction,
  type Txn,
} from "./actions.ts";
export { POND_ROW_VERSIONS_TAG, POND_VERSION_TAG, decodeRowVersions, encodeRowVersions, type ActiveFile, type Snapshot } from "./snapshot.ts";
export { commit, eachCommit, everyAddedPath, type CommitRead, latestVersion, listCommits, loadSnapshot, readCommit, type CommitResult } from "./delta-log.ts";
export { CHECKPOINT_FIELDS, readCheckpoint, writeCheckpoint, type CheckpointState } from "./checkpoint.ts";
export { listLog, type LogListing } from "./log-listing.ts";
export { checkpointKey, commitKey, LAST_CHECKPOINT_KEY, LOG_DIR, parseLogFileName, type LogFileName } from "./log-file-name.ts";
export { checkReadable, MAX_READER_VERSION, SUPPORTED_READER_FEATURES } from "./protocol-support.ts";
export { entryStats, OPLOG_SCHEMA_STRING, pondTableActions, readEntryFile, readEntryRefs, writeEntryFile } from "./pond-table.ts";
export {
  decodeEntries,
  decodeEntryRefs,
  type EntryRefs,
  describeParquet,
  encodeColumns,
  encodeEntries,
  encodeObjects,
  ENTRY_FIELDS,
  ENTRY_ROW_GROUP_SIZE,
  readParquetObjects,
  readParquetColumns,
  readParquetRaw,
  type ColumnEncodeOptions,
  type EncodeOptions,
  type RawColumn,
  type RawColumns,
  type RawTable,
  type ParquetDescription,
  type ParquetField,
} from "./parquet-codec.ts";
export { ArrowStreamEncoder, decodeDirectory, encodeDirectory, type ArrowColumnKind } from "./directory-codec.ts";
export {
  CorruptLogError,
  EntryPartitionError,
  InvalidKeyError,
  ObjectNotFoundError,
  RemoteAccessDeniedError,
  RemoteBucketNotFoundError,
  RemoteRequestError,
  RemoteTimeoutError,
  RemoteUnreachableError,
  TableNotFoundError,
  UndecodableError,
  UnsupportedFeatureError,
  VersionNotFoundError,
} from "./errors.ts";
export * from "./durable-file.ts";
export { limiter, mapLimit } from "./concurrency.ts";
export { encodeSeriesParquet, encodeSeriesParquetParts, type SeriesColumns, type SeriesParquetOptions } from "./series-parquet.ts";
