/**
 * Directory snapshots as Arrow IPC streams: columns name (utf8), child_node_id (utf8),
 * entry_type (utf8) and version_last_modified (int64), one row per entry. The one
 * module that imports apache-arrow; it is loaded on first use because loading it
 * takes ~20 ms that commands which never open a directory should not pay.
 */
import type * as Arrow from "apache-arrow";
import { isEntryType, type DirEntry } from "@pond/tinyfs";
import { CorruptLogError } from "./errors.ts";

let arrowModule: typeof Arrow | undefined;
function arrow(): typeof Arrow {
  // Synchronous lazy load: callers encode and decode without awaiting.
  arrowModule ??= require("apache-arrow") as typeof Arrow;
  return arrowModule;
}

/** Encodes entries, in the order given, as one Arrow IPC stream. */
export function encodeDirectory(entries: readonly DirEntry[]): Uint8Array {
  const A = arrow();
  const n = entries.length;
  const names = new Array<string>(n);
  const ids = new Array<string>(n);
  const types = new Array<string>(n);
  const versions = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    names[i] = e.name;
    ids[i] = e.childNodeId;
    types[i] = e.entryType;
    versions[i] = BigInt(e.versionLastModified);
  }
  const table = new A.Table({
    name: A.vectorFromArray(names, new A.Utf8()),
    child_node_id: A.vectorFromArray(ids, new A.Utf8()),
    entry_type: A.vectorFromArray(types, new A.Utf8()),
    version_last_modified: A.makeVector(versions),
  });
  return A.tableToIPC(table, "stream");
}

/**
 * Decodes a stream written by encodeDirectory. Anything else (garbage, a truncated
 * stream, missing columns, an unknown entry type) is a CorruptLogError naming
 * `source` (what the bytes are, for the message).
 */
export function decodeDirectory(bytes: Uint8Array, source = "directory snapshot"): DirEntry[] {
  const A = arrow();
  let table: Arrow.Table;
  try {
    table = A.tableFromIPC(bytes);
  } catch (e) {
    throw new CorruptLogError(source, `is not a valid Arrow IPC stream (${(e as Error).message})`, e);
  }
  const col = (name: string, typeId: Arrow.Type) => {
    const v = table.getChild(name);
    if (!v || v.type.typeId !== typeId) {
      throw new CorruptLogError(source, `is not a directory snapshot: column ${name} is ${v ? `of type ${v.type}` : "missing"}`);
    }
    return v;
  };
  const names = col("name", A.Type.Utf8);
  const ids = col("child_node_id", A.Type.Utf8);
  const types = col("entry_type", A.Type.Utf8);
  const versions = col("version_last_modified", A.Type.Int);
  if (!(versions.type as Arrow.Int).isSigned || (versions.type as Arrow.Int).bitWidth !== 64) {
    throw new CorruptLogError(source, `is not a directory snapshot: version_last_modified is ${versions.type}, not int64`);
  }
  const n = table.numRows;
  const out = new Array<DirEntry>(n);
  const nameArr = names.toArray() as string[];
  const idArr = ids.toArray() as string[];
  const typeArr = types.toArray() as string[];
  const verArr = versions.toArray() as BigInt64Array;
  for (let i = 0; i < n; i++) {
    const entryType = typeArr[i];
    if (typeof nameArr[i] !== "string" || typeof idArr[i] !== "string" || !isEntryType(entryType)) {
      throw new CorruptLogError(source, `has an invalid entry at row ${i} (name ${JSON.stringify(nameArr[i])}, type ${JSON.stringify(entryType)})`);
    }
    out[i] = { name: nameArr[i], childNodeId: idArr[i], entryType, versionLastModified: Number(verArr[i]) };
  }
  return out;
}
