/**
 * Delta checkpoints: a Parquet file holding the state of the table at one version
 * (protocol, metaData and every active add), one action per row in struct columns.
 * The layout is the one in the Delta protocol, as Spark and delta-rs write it, so
 * other engines read ours and we read theirs.
 */
import type { AddAction, Metadata, Protocol } from "./actions.ts";
import { CorruptLogError, UndecodableError } from "./errors.ts";
import { checkpointKey, LAST_CHECKPOINT_KEY } from "./log-file-name.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";
import { encodeObjects, readParquetObjects, type ParquetField } from "./parquet-codec.ts";
import { POND_VERSION_TAG, type ActiveFile, type Snapshot } from "./snapshot.ts";

const str = (name: string): ParquetField => ({ name, type: "string", optional: true });
const long = (name: string): ParquetField => ({ name, type: "int64", optional: true });
const int = (name: string): ParquetField => ({ name, type: "int32", optional: true });
const bool = (name: string): ParquetField => ({ name, type: "boolean", optional: true });
const map = (name: string): ParquetField => ({ name, map: "string", optional: true });
const list = (name: string): ParquetField => ({ name, list: "string", optional: true });

/** The checkpoint schema (Delta PROTOCOL.md, "Checkpoint Schema"); every field optional as Spark writes it. */
export const CHECKPOINT_FIELDS: readonly ParquetField[] = [
  { name: "txn", optional: true, struct: [str("appId"), long("version"), long("lastUpdated")] },
  {
    name: "add",
    optional: true,
    struct: [str("path"), map("partitionValues"), long("size"), long("modificationTime"), bool("dataChange"), str("stats"), map("tags")],
  },
  {
    name: "remove",
    optional: true,
    struct: [str("path"), long("deletionTimestamp"), bool("dataChange"), bool("extendedFileMetadata"), map("partitionValues"), long("size"), map("tags")],
  },
  {
    name: "metaData",
    optional: true,
    struct: [
      str("id"),
      str("name"),
      str("description"),
      { name: "format", optional: true, struct: [str("provider"), map("options")] },
      str("schemaString"),
      list("partitionColumns"),
      map("configuration"),
      long("createdTime"),
    ],
  },
  { name: "protocol", optional: true, struct: [int("minReaderVersion"), int("minWriterVersion"), list("readerFeatures"), list("writerFeatures")] },
];

/**
 * Writes the checkpoint of `snapshot` and then `_last_checkpoint`. Each add's
 * `addedInVersion` goes into tags["pond.version"] so that it survives the checkpoint.
 * An existing checkpoint for the same version is left alone (same state, by definition).
 */
export async function writeCheckpoint(store: ObjectStore, snapshot: Snapshot): Promise<void> {
  const rows: Record<string, unknown>[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metadata }];
  for (const f of snapshot.files) {
    let tags = f.tags ?? null;
    if (f.addedInVersion !== null) tags = { ...tags, [POND_VERSION_TAG]: String(f.addedInVersion) };
    rows.push({
      add: {
        path: f.path,
        partitionValues: f.partitionValues,
        size: f.size,
        modificationTime: f.modificationTime,
        // Spark and delta-rs write false here: a checkpoint changes no data.
        dataChange: false,
        stats: f.stats ?? null,
        tags,
      },
    });
  }
  const bytes = encodeObjects(CHECKPOINT_FIELDS, rows);
  await store.put(checkpointKey(snapshot.version), bytes, { ifAbsent: true });
  const last = JSON.stringify({ version: snapshot.version, size: rows.length });
  await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(last));
}

/** The state read back from a checkpoint (all its parts). */
export interface CheckpointState {
  protocol: Protocol;
  metadata: Metadata;
  files: ActiveFile[];
}

/**
 * Reads a checkpoint from its parts (one, or `n` of a multi-part checkpoint), only the
 * columns replay needs. Files from it have addedInVersion from tags["pond.version"],
 * else null.
 */
export async function readCheckpoint(store: ObjectStore, parts: readonly ObjectMeta[]): Promise<CheckpointState> {
  let protocol: Protocol | undefined;
  let metadata: Metadata | undefined;
  const files: ActiveFile[] = [];
  const all = await Promise.all(
    parts.map(async (p) => {
      const bytes = await store.get(p.key);
      try {
        return await readParquetObjects(bytes, { columns: ["protocol", "metaData", "add"] });
      } catch (e) {
        if (e instanceof UndecodableError) throw new CorruptLogError(p.key, `is not a readable Parquet checkpoint (${e.data.detail})`, e);
        throw e;
      }
    }),
  );
  for (let i = 0; i < parts.length; i++) {
    const file = parts[i].key;
    for (const row of all[i]) {
      if (row.add) files.push(toActiveFile(row.add as Record<string, unknown>, file));
      else if (row.metaData) metadata = toMetadata(row.metaData as Record<string, unknown>);
      else if (row.protocol) protocol = toProtocol(row.protocol as Record<string, unknown>);
    }
  }
  const names = parts.map((p) => p.key).join(", ");
  if (!protocol) throw new CorruptLogError(names, "has no protocol action");
  if (!metadata) throw new CorruptLogError(names, "has no metaData action");
  return { protocol, metadata, files };
}

function toActiveFile(r: Record<string, unknown>, file: string): ActiveFile {
  if (typeof r.path !== "string") throw new CorruptLogError(file, "has an add action without a path");
  const tags = (r.tags as Record<string, string> | null | undefined) ?? null;
  let addedInVersion: number | null = null;
  const tagged = tags?.[POND_VERSION_TAG];
  if (tagged !== undefined) {
    if (!/^\d{1,15}$/.test(tagged)) throw new CorruptLogError(file, `has add "${r.path}" with tag ${POND_VERSION_TAG}="${tagged}", not a version`);
    addedInVersion = Number(tagged);
  }
  const add: AddAction = {
    path: r.path,
    partitionValues: (r.partitionValues as Record<string, string | null> | null | undefined) ?? {},
    size: num(r.size),
    modificationTime: num(r.modificationTime),
    dataChange: r.dataChange === true,
  };
  if (typeof r.stats === "string") add.stats = r.stats;
  if (tags) add.tags = tags;
  if (r.deletionVector != null) add.deletionVector = r.deletionVector;
  return { ...add, addedInVersion };
}

function toMetadata(r: Record<string, unknown>): Metadata {
  const format = (r.format as { provider?: string; options?: Record<string, string> | null } | undefined) ?? {};
  return {
    id: r.id as string,
    name: (r.name as string | null | undefined) ?? null,
    description: (r.description as string | null | undefined) ?? null,
    format: { provider: format.provider ?? "parquet", options: format.options ?? {} },
    schemaString: r.schemaString as string,
    partitionColumns: (r.partitionColumns as string[] | null | undefined) ?? [],
    configuration: (r.configuration as Record<string, string> | null | undefined) ?? {},
    createdTime: r.createdTime == null ? null : num(r.createdTime),
  };
}

function toProtocol(r: Record<string, unknown>): Protocol {
  const p: Protocol = { minReaderVersion: num(r.minReaderVersion), minWriterVersion: num(r.minWriterVersion) };
  if (Array.isArray(r.readerFeatures)) p.readerFeatures = r.readerFeatures as string[];
  if (Array.isArray(r.writerFeatures)) p.writerFeatures = r.writerFeatures as string[];
  return p;
}

function num(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}
