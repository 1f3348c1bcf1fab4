/**
 * One ingest destination's state: what the pond holds of it (kind, columns, time column,
 * what ingest already committed), its buffer of accepted rows or CDC events not yet
 * flushed, and its dedup windows. Building a flush's Parquet file from the buffer is
 * here too; the flush itself (transaction, write-ahead file) is in ingester.ts.
 */
import { readParquetObjects, type ParquetField } from "@pond/oplog";
import { WD, type VersionInfo } from "@pond/tinyfs";
import { seriesSchemaOf, type TLogView } from "@pond/tlogfs";
import { ROW_ID, type CdcEvent } from "./cdc.ts";
import { DedupWindow } from "./dedup.ts";
import { IngestUnknownDestinationError, IngestWrongDestinationError } from "./errors.ts";
import { ingestTypeOf, parquetField, type IngestColumn, type IngestType } from "./schema.ts";

/** Attributes ingest records on each version it writes. */
export const THROUGH_ATTR = "ingest_through";
export const CDC_ATTR = "cdc_sequence";
/** The last sequence number committed per source, by dedup spec (sequence mode): `{spec: {source: n}}`. */
export const SEQUENCES_ATTR = "ingest_sequences";

/** A sequence-mode dedup spec as a key: the source columns and the sequence column. */
export function sequenceSpec(sourceCols: readonly string[], sequence: string): string {
  return `${sourceCols.join(",")}/${sequence}`;
}

/** The committed sequence numbers after `chunks` are committed on top of `before`. */
export function committedSequences(before: Record<string, Record<string, number>>, chunks: readonly RowChunk[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [spec, m] of Object.entries(before)) out[spec] = { ...m };
  for (const ch of chunks) {
    if (!ch.seq) continue;
    const m = (out[ch.seq.spec] ??= {});
    for (const vals of ch.rows) {
      const src = JSON.stringify(ch.seq.keyIdx.map((j) => (j < 0 ? null : vals[j])));
      const n = vals[ch.seq.seqIdx] as number;
      if (!(n <= (m[src] ?? Number.NEGATIVE_INFINITY))) m[src] = n;
    }
  }
  return out;
}

export interface FlushInfo {
  at: string;
  reason: string;
  rows: number;
  version?: number;
  seq?: number;
}

export class Destination {
  kind: "series" | "table" | undefined;
  exists = false;
  /** Column → type ingest writes (a type ingest cannot write: `unsupported:<duck type>`). */
  readonly columns = new Map<string, IngestType | `unsupported:${string}`>();
  timeColumn: string | undefined;
  /** Sequence mode: the last number committed per source, by spec (from the newest version that records them). */
  committedSequences: Record<string, Record<string, number>> = {};
  /** Sequence mode: the last number taken per source (committed or buffered), by spec. */
  private readonly lastSequences = new Map<string, Map<string, number>>();

  /** The last number taken per source for `spec`, starting from what is committed. */
  sequences(spec: string): Map<string, number> {
    let m = this.lastSequences.get(spec);
    if (!m) {
      m = new Map(Object.entries(this.committedSequences[spec] ?? {}));
      this.lastSequences.set(spec, m);
    }
    return m;
  }

  /** The highest write-ahead record sequence whose rows are committed. */
  committedThrough = 0;
  /** The last write-ahead record sequence given out. */
  lastSeq = 0;

  // Rows (series): chunks as requests brought them, each row an array of values aligned with its chunk's columns
  private chunks: RowChunk[] = [];
  private chunkRows = 0;
  bytes = 0;
  firstAt: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the buffer gauges were last set (performance.now()). */
  gaugesAt = Number.NEGATIVE_INFINITY;
  /** A flush of this destination is queued and has not started: a threshold need not queue another. */
  flushQueued = false;

  // CDC (table)
  readonly pending = new Map<number, CdcEvent>();
  applied = 0;
  tableRows: Map<string, Record<string, unknown>> | undefined;

  readonly dedup = new Map<string, Promise<DedupWindow>>();
  /** Flushes committed (and their keys evicted from the windows) so far: a lookup of committed keys that a flush overtook is made again. */
  flushes = 0;

  // Counts for /status
  accepted = 0;
  deduplicated = 0;
  lastFlush: FlushInfo | undefined;

  constructor(readonly path: string) {}

  /** Rows or events waiting for a flush. */
  get buffered(): number {
    return this.kind === "table" ? this.pending.size : this.chunkRows;
  }

  addChunk(cols: readonly (readonly [string, IngestType])[], rows: unknown[][], seq?: RowChunk["seq"]): void {
    this.chunks.push({ cols, rows, ...(seq ? { seq } : {}) });
    this.chunkRows += rows.length;
  }

  /** Takes every buffered chunk (a flush). */
  takeChunks(): RowChunk[] {
    const out = this.chunks;
    this.chunks = [];
    this.chunkRows = 0;
    return out;
  }

  /** Puts chunks a failed flush took back in front of the buffer. */
  putBack(chunks: RowChunk[]): void {
    this.chunks = [...chunks, ...this.chunks];
    this.chunkRows = this.chunks.reduce((n, c) => n + c.rows.length, 0);
  }

  /**
   * Reads what the pond holds at `path`: a series (its schema and ingest's watermark), a
   * table (its last applied CDC sequence), or nothing (then the parent folder must exist).
   */
  static async load(view: TLogView, path: string): Promise<Destination> {
    const wd = new WD(view);
    const r = await wd.resolve(path, { followSymlinks: true });
    const d = new Destination(r?.path ?? path);
    if (!r) {
      const parent = path.slice(0, path.lastIndexOf("/")) || "/";
      const p = await wd.resolve(parent, { followSymlinks: true });
      if (!p) throw new IngestUnknownDestinationError(path, parent);
      if (p.entryType !== "directory")
        throw new IngestWrongDestinationError(path, `"${parent}" is a ${p.entryType}, not a directory`, "Name a path inside a directory.");
      return d;
    }
    if (r.entryType !== "file:series" && r.entryType !== "file:table") {
      throw new IngestWrongDestinationError(
        path,
        `it is a ${r.entryType}; rows go into a file:series, CDC events into a file:table`,
        "Name a series or table, or a new path inside a directory (rows make a series there, CDC events a table).",
      );
    }
    d.exists = true;
    d.kind = r.entryType === "file:series" ? "series" : "table";
    const versions = await view.versions(r.parentId, r.nodeId);
    if (d.kind === "series") {
      const schema = seriesSchemaOf(versions);
      for (const c of schema.columns) d.columns.set(c.name, ingestTypeOf(c.type) ?? `unsupported:${c.type}`);
      d.timeColumn = schema.timestampColumn;
    }
    for (let i = versions.length - 1; i >= 0; i--) {
      const a = versions[i]!.attributes;
      if (typeof a[THROUGH_ATTR] === "number") {
        d.committedThrough = a[THROUGH_ATTR] as number;
        if (typeof a[SEQUENCES_ATTR] === "object" && a[SEQUENCES_ATTR] !== null)
          d.committedSequences = a[SEQUENCES_ATTR] as Record<string, Record<string, number>>;
        break;
      }
    }
    if (d.kind === "table") {
      const a = versions[versions.length - 1]!.attributes;
      d.applied = typeof a[CDC_ATTR] === "number" ? (a[CDC_ATTR] as number) : 0;
    }
    d.lastSeq = d.committedThrough;
    return d;
  }

  /**
   * The dedup window for key `columns`, made on first use with the keys of committed rows
   * whose event time reaches into the window (from the newest versions), so a row
   * re-sent after a flush or a restart is still found.
   */
  dedupFor(columns: readonly string[], windowUs: number, view: () => Promise<TLogView>): Promise<DedupWindow> {
    const k = columns.join("\u0000");
    let w = this.dedup.get(k);
    if (!w) {
      w = (async () => {
        const dw = new DedupWindow(columns, windowUs);
        if (this.exists && this.kind === "series") await loadCommittedKeys(dw, await view(), this.path, this.timeColumn);
        return dw;
      })();
      this.dedup.set(k, w);
      w.catch(() => this.dedup.delete(k));
    }
    return w;
  }

  /**
   * The keys of committed rows whose event time is in [lo, hi] (µs), each with its event
   * times: how a row older than the dedup window's start is checked. Reads only the
   * versions whose time range meets [lo, hi], and of them only the key and time columns.
   */
  async committedKeysBetween(dw: DedupWindow, view: TLogView, lo: number, hi: number): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (!this.exists || this.kind !== "series") return out;
    await readCommittedKeys(
      dw,
      view,
      this.path,
      this.timeColumn,
      () => ({ lo, hi }),
      (k, t) => {
        const times = out.get(k);
        if (times) times.push(t);
        else out.set(k, [t]);
      },
    );
    return out;
  }

  /** The table's rows by rowId, read from its newest version on first use. */
  async tableState(view: () => Promise<TLogView>): Promise<Map<string, Record<string, unknown>>> {
    if (this.tableRows) return this.tableRows;
    const rows = new Map<string, Record<string, unknown>>();
    if (this.exists) {
      const v = await view();
      const r = await new WD(v).stat(this.path, { followSymlinks: true });
      const bytes = await readAll(v.read(r.parentId, r.nodeId));
      for (const row of await readParquetObjects(bytes)) {
        const plain = plainRow(row);
        const id = plain[ROW_ID];
        if (id === undefined || id === null) {
          throw new IngestWrongDestinationError(
            this.path,
            `the table has no ${ROW_ID} column, so CDC events cannot find its rows`,
            "Send CDC events to a new table path; ingest makes the table.",
          );
        }
        rows.set(String(id), plain);
      }
    }
    this.tableRows = rows;
    return rows;
  }
}

async function readAll(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Parquet values as ingest holds them: integers and times as numbers. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === "bigint" ? Number(v) : v === undefined ? null : v;
  return out;
}

async function loadCommittedKeys(dw: DedupWindow, view: TLogView, path: string, timeColumn: string | undefined): Promise<void> {
  await readCommittedKeys(
    dw,
    view,
    path,
    timeColumn,
    (newest) => ({ lo: newest - dw.windowUs, hi: Number.POSITIVE_INFINITY }),
    (k, t) => dw.add(k, t),
  );
}

/**
 * Calls `found` with the key and event time of every committed row of the series at `path`
 * whose time is in the range `range` gives (from the newest event time committed). Reads
 * only the versions whose time range meets it, and of them only the key and time columns.
 */
async function readCommittedKeys(
  dw: DedupWindow,
  view: TLogView,
  path: string,
  timeColumn: string | undefined,
  range: (newestUs: number) => { lo: number; hi: number },
  found: (key: string, timeUs: number) => void,
): Promise<void> {
  const r = await new WD(view).stat(path, { followSymlinks: true });
  const versions = (r.versions ?? []).filter((v) => v.minEventTime != null && v.maxEventTime != null);
  if (versions.length === 0 || timeColumn === undefined) return;
  const { lo, hi } = range(Math.max(...versions.map((v) => Number(v.maxEventTime))));
  const meets = versions.filter((v: VersionInfo) => Number(v.minEventTime) <= hi && Number(v.maxEventTime) >= lo && hasColumns(v, dw.columns));
  for (const v of meets) {
    const bytes = await readAll(view.read(r.parentId, r.nodeId, v.version));
    for (const row of await readParquetObjects(bytes, { columns: [...new Set([...dw.columns, timeColumn])] })) {
      const plain = plainRow(row);
      const t = plain[timeColumn];
      if (typeof t === "number" && t >= lo && t <= hi) found(dw.keyOf(plain), t);
    }
  }
}

function hasColumns(v: VersionInfo, columns: readonly string[]): boolean {
  const cols = v.attributes.columns;
  if (!Array.isArray(cols)) return false;
  const names = new Set((cols as { name: string }[]).map((c) => c.name));
  return columns.every((c) => names.has(c));
}

/** Rows of one request: values aligned with `cols` (name, type). */
export interface RowChunk {
  cols: readonly (readonly [string, IngestType])[];
  rows: unknown[][];
  /** Sequence mode: the spec, and where the source's key values and the sequence are in a row. */
  seq?: { spec: string; keyIdx: number[]; seqIdx: number };
}

/** A version's columns, ready for the Parquet codec (version-writer.ts), and what its record says of it. */
export interface BuiltVersion {
  fields: ParquetField[];
  /** One array of values per field. */
  data: unknown[][];
  /** Rows are to be ordered by the first column (time) before encoding (done on the flush thread). */
  sortByFirst?: boolean;
  rows: number;
  columns: IngestColumn[];
  minUs?: number;
  maxUs?: number;
}

/** Rows taken apart per stretch before the flush yields to the event loop (requests in flight go on meanwhile). */
const CHUNK_ROWS = 2000;

/**
 * The buffered rows as the columns of a Parquet file: the time column first (required),
 * then the other columns by name, in arrival order (`sortByFirst`: the flush thread orders
 * them by time). Built a stretch at a time, yielding between stretches, so a flush of
 * 10,000 rows does not stall the requests in flight.
 */
export async function buildSeriesVersion(chunks: readonly RowChunk[], timeColumn: string): Promise<BuiltVersion> {
  const types = new Map<string, IngestType>();
  let n = 0;
  for (const ch of chunks) {
    n += ch.rows.length;
    for (const [name, type] of ch.cols) if (!types.has(name)) types.set(name, type);
  }
  const others = [...types.keys()].filter((c) => c !== timeColumn).sort();
  const cols: IngestColumn[] = [{ name: timeColumn, type: types.get(timeColumn)! }, ...others.map((name) => ({ name, type: types.get(name)! }))];
  const data: unknown[][] = cols.map(() => []);
  let minUs = Number.POSITIVE_INFINITY;
  let maxUs = Number.NEGATIVE_INFINITY;
  let sinceYield = 0;
  for (const ch of chunks) {
    // Where each output column is in this chunk's rows (-1: absent, null).
    const at = cols.map((c) => ch.cols.findIndex(([name]) => name === c.name));
    for (const vals of ch.rows) {
      const t = vals[at[0]!] as number;
      if (t < minUs) minUs = t;
      if (t > maxUs) maxUs = t;
      for (let c = 0; c < cols.length; c++) data[c]!.push(at[c]! < 0 ? null : vals[at[c]!]);
    }
    sinceYield += ch.rows.length;
    if (sinceYield >= CHUNK_ROWS) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
  return {
    fields: cols.map((c, i) => parquetField(c, i === 0)),
    data,
    sortByFirst: true,
    rows: n,
    columns: cols,
    minUs,
    maxUs,
  };
}

/**
 * A table's rows as a Parquet file: `_row_id` first, then every column any row has, by
 * name, each typed from its values (numbers DOUBLE, or BIGINT when all are integers and
 * came from integer columns; booleans; anything else as text).
 */
export function buildTableVersion(rows: Iterable<Record<string, unknown>>): BuiltVersion {
  const list = [...rows];
  const names = new Set<string>();
  for (const r of list) for (const k in r) if (k !== ROW_ID) names.add(k);
  const cols: IngestColumn[] = [{ name: ROW_ID, type: "VARCHAR" }];
  for (const name of [...names].sort()) {
    let type: IngestType | undefined;
    for (const r of list) {
      const v = r[name];
      if (v === null || v === undefined) continue;
      const t: IngestType = typeof v === "number" ? "DOUBLE" : typeof v === "boolean" ? "BOOLEAN" : "VARCHAR";
      type = type === undefined || type === t ? t : "VARCHAR";
    }
    cols.push({ name, type: type ?? "VARCHAR" });
  }
  const data = cols.map((c) =>
    list.map((r) => {
      const v = r[c.name];
      if (v === null || v === undefined) return null;
      if (c.type === "VARCHAR") return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
      return v;
    }),
  );
  return { fields: cols.map((c, i) => parquetField(c, i === 0)), data, rows: list.length, columns: cols };
}
