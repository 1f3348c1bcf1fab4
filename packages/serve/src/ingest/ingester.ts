/**
 * Streaming ingest (the DoLake pattern): rows accepted per destination are appended to
 * the write-ahead file (fsynced, group-committed) before they are acknowledged, buffered,
 * and flushed to one new version of the destination when a threshold is reached (rows,
 * bytes, time since the first unflushed row), when asked (`POST /flush`, `?sync=true`),
 * and at shutdown. Both `pond serve` (through the HTTP part) and `pond ingest` (standard
 * input) drive this one class.
 *
 * Exactly once: each write-ahead record has a sequence per destination; a flush records
 * the highest one it committed on the version (`ingest_through`), so replay after a crash
 * skips what the pond already holds even when the crash came between the commit and the
 * removal of the write-ahead segments. CDC events are idempotent by their own sequence.
 *
 * A flush is an ordinary write transaction (`Pond.write`: the write lock, the control
 * log, the commit retry), so other `pond` commands may write between flushes; flushes
 * run one at a time.
 */
import { join } from "node:path";
import { PondError, logger } from "@pond/diagnostics";
import { Pond } from "@pond/steward";
import { normalizePath } from "@pond/tinyfs";
import type { PartContext, IngestOptions } from "../part.ts";
import type { RawRecord } from "./body.ts";
import { applyContiguous, gapOf, isCdcRecord, parseEvents, type CdcEvent } from "./cdc.ts";
import {
  Destination,
  buildSeriesVersion,
  buildTableVersion,
  committedSequences,
  sequenceSpec,
  CDC_ATTR,
  SEQUENCES_ATTR,
  THROUGH_ATTR,
  type BuiltVersion,
  type RowChunk,
} from "./destination.ts";
import { IngestBadInputError, IngestReplayError, IngestWrongDestinationError } from "./errors.ts";
import type { IngestType } from "./schema.ts";
import type { DedupWindow } from "./dedup.ts";
import { WriteAheadLog } from "./wal.ts";
import { typedRows } from "./typed-rows.ts";
import { makeMetrics } from "./ingest-metrics.ts";
import { Flusher } from "./flusher.ts";

export interface IngestRequest {
  /** The pond path of the destination. */
  dest: string;
  records: RawRecord[];
  /** What a record's `line` counts, for messages. */
  unit: "Line" | "Element";
  /** Values are CSV text. */
  fromText: boolean;
  /** Dedup key columns for this request (over the options' dedupKey). */
  key?: readonly string[];
  /**
   * Dedup by a sequence number per source instead of a time window: this column holds a
   * number that grows per source (the key columns name the source; none: one source), and a
   * row whose number is not above the last one taken from its source is a duplicate.
   */
  sequence?: string;
  /** The time column of a new series (default: detected by name). */
  timestampColumn?: string;
  /** Wait for the commit. */
  sync?: boolean;
  /** Input bytes, counted against --flush-bytes. */
  bytes: number;
}

export interface IngestResult {
  accepted: number;
  deduplicated: number;
  /** True when the rows are committed in the pond (after `sync`); false while only in the write-ahead file. */
  durable: boolean;
  destination: string;
  /** With `sync`: the version the rows went into, when a flush wrote one. */
  version?: number;
}

export interface FlushResult {
  destination: string;
  reason: string;
  rows: number;
  version?: number;
  seq?: number;
}

export type FlushReason = "rows" | "bytes" | "interval" | "request" | "sync" | "shutdown" | "recovery";

export class Ingester {
  private readonly dests = new Map<string, Promise<Destination>>();
  private readonly aliases = new Map<string, Promise<Destination>>();
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly m: ReturnType<typeof makeMetrics>;
  private readonly flusher: Flusher;

  private constructor(
    readonly pond: Pond,
    /** The write-ahead file (its fsync count and group-commit switch are read by tests and the benchmark). */
    readonly wal: WriteAheadLog,
    readonly options: IngestOptions,
    ctx: PartContext,
    command: string[],
  ) {
    this.flusher = new Flusher(pond.dir, command);
    this.m = makeMetrics(ctx.metrics);
  }

  /**
   * Opens the pond's ingest: takes the write-ahead folder's lock, replays what an earlier
   * process left (skipping what is already committed) and flushes it at once.
   */
  static async open(ctx: PartContext, options: IngestOptions, command: string[] = ["pond", "ingest"]): Promise<Ingester> {
    const pond = Pond.open(ctx.pondDir);
    const wal = WriteAheadLog.open(join(pond.paths.control, "ingest"));
    const ing = new Ingester(pond, wal, options, ctx, command);
    wal.onSync = () => ing.m.walSyncs.inc();
    try {
      await ing.flusher.warm();
      await ing.recover();
    } catch (e) {
      ing.flusher.close();
      await wal.close();
      throw e;
    }
    return ing;
  }

  /** The write-ahead fsyncs done so far (group commits). */
  get walSyncs(): number {
    return this.wal.syncs;
  }

  private async recover(): Promise<void> {
    const found = this.wal.recover();
    for (const f of found) {
      let d: Destination;
      try {
        d = await this.dest(f.dest);
      } catch (e) {
        // Starting without these rows would let new records reuse their sequence numbers: refuse, and say how to go on.
        if (e instanceof PondError) throw new IngestReplayError(f.dest, f.files, e.message);
        throw e;
      }
      for (const rec of f.records) {
        const s = rec.s as number;
        d.lastSeq = Math.max(d.lastSeq, s);
        if (Array.isArray(rec.e)) {
          d.kind = "table";
          for (const e of rec.e as CdcEvent[]) if (e.sequence > d.applied && !d.pending.has(e.sequence)) d.pending.set(e.sequence, e);
          continue;
        }
        d.kind ??= "series";
        const cols = rec.c as [string, IngestType][];
        for (const [name, type] of cols) if (!d.columns.has(name)) d.columns.set(name, type);
        if (typeof rec.t === "string") d.timeColumn ??= rec.t;
        const rows = rec.r as unknown[][];
        const key = rec.k as string[] | undefined;
        const timeIdx = cols.findIndex(([n]) => n === d.timeColumn);
        let seqInfo: RowChunk["seq"];
        if (typeof rec.q === "string") {
          const keyIdx = (key ?? []).map((k) => cols.findIndex(([n]) => n === k));
          seqInfo = { spec: sequenceSpec(key ?? [], rec.q), keyIdx, seqIdx: cols.findIndex(([n]) => n === rec.q) };
          const last = d.sequences(seqInfo.spec);
          for (const vals of rows) {
            const src = JSON.stringify(keyIdx.map((j) => (j < 0 ? null : vals[j])));
            const n = vals[seqInfo.seqIdx] as number;
            if (n > (last.get(src) ?? Number.NEGATIVE_INFINITY)) last.set(src, n);
          }
        } else if (key && timeIdx >= 0) {
          const dw = await d.dedupFor(key, this.options.dedupWindowMs * 1000, () => this.pond.view());
          const keyIdx = key.map((k) => cols.findIndex(([n]) => n === k));
          for (const vals of rows) dw.add(dw.keyOfValues(keyIdx.map((j) => (j < 0 ? null : vals[j]))), vals[timeIdx] as number);
        }
        if (s <= d.committedThrough) continue; // committed before the crash
        d.addChunk(cols, rows, seqInfo);
        d.bytes += (rec.b as number) ?? 0;
      }
      this.wal.adopt(d.path, f.files);
      logger.info("ingest replayed write-ahead file", { destination: d.path, rows: d.buffered, files: f.files.length });
      this.updateGauges(d);
      // A flush that fails here (the write lock held past its timeout, a schema changed meanwhile)
      // leaves the rows buffered and in the write-ahead file: the next threshold or shutdown tries again.
      await this.enqueueFlush(d, "recovery").catch((e) => {
        if (!(e instanceof PondError)) throw e;
        logger.error("ingest could not flush the replayed rows; they stay in the write-ahead file", { destination: d.path, error: e.message });
      });
    }
  }

  /** The destination at pond path `path`, loaded once (and found by the path as sent, without normalizing it again). */
  private dest(path: string): Promise<Destination> {
    const known = this.aliases.get(path);
    if (known) return known;
    const p = normalizePath(path.startsWith("/") ? path : `/${path}`);
    let d = this.dests.get(p);
    if (!d) {
      d = (async () => Destination.load(await this.pond.view(), p))();
      this.dests.set(p, d);
    }
    this.aliases.set(path, d);
    // Not found now may exist later.
    d.catch(() => {
      this.dests.delete(p);
      this.aliases.delete(path);
    });
    return d;
  }

  /**
   * Takes one request's rows (or CDC events): all of them or none. Resolves once they are
   * in the write-ahead file (and, with `sync`, committed).
   */
  async accept(req: IngestRequest): Promise<IngestResult> {
    if (this.closed) throw new IngestWrongDestinationError(req.dest, "ingest is shutting down", "Send the rows again once the server is back.");
    const d = await this.dest(req.dest);
    const cdc = req.records.length > 0 && isCdcRecord(req.records[0]!.value);
    const r = cdc ? await this.acceptEvents(d, req) : await this.acceptRows(d, req);
    if (req.sync) {
      const f = await this.enqueueFlush(d, "sync");
      return { ...r, durable: true, ...(f?.version !== undefined ? { version: f.version } : {}) };
    }
    return r;
  }

  /** Counts a refused request by its error code (metrics). */
  countError(e: unknown): void {
    this.m.errors.inc({ code: e instanceof PondError ? e.code : "internal" });
  }

  private async acceptRows(d: Destination, req: IngestRequest): Promise<IngestResult> {
    if (d.kind === "table") {
      throw new IngestWrongDestinationError(
        d.path,
        "it is a file:table, which takes CDC events",
        "Send events {sequence, operation, rowId, after}, or send rows to a series.",
      );
    }
    const { records, unit } = req;
    const { timeColumn, cols, rows, timeIdx } = typedRows(req, d.columns, d.timeColumn);
    const types = new Map(cols);
    // Dedup: drop rows whose key is in the window (or earlier in this request).
    const key = req.key ?? this.options.dedupKey;
    let kept = rows;
    let seqInfo: RowChunk["seq"];
    if (req.sequence !== undefined) {
      // A sequence number per source: the key columns (if any) name the source.
      const sourceCols = key ?? [];
      const seqIdx = cols.findIndex(([n]) => n === req.sequence);
      if (seqIdx < 0)
        throw new IngestBadInputError(
          undefined,
          `the sequence column "${req.sequence}" is in no row`,
          req.sequence,
          "Name the column that numbers each source's rows (?sequence=COL).",
        );
      const keyIdx = sourceCols.map((k) => cols.findIndex(([n]) => n === k));
      const spec = sequenceSpec(sourceCols, req.sequence);
      seqInfo = { spec, keyIdx, seqIdx };
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![seqIdx];
        if (typeof v !== "number" || !Number.isSafeInteger(v)) {
          throw new IngestBadInputError(records[i]!.line, `${JSON.stringify(v)} is not a whole number (the sequence)`, req.sequence, undefined, unit);
        }
      }
      const last = d.sequences(spec);
      kept = [];
      for (const vals of rows) {
        const src = JSON.stringify(keyIdx.map((j) => (j < 0 ? null : vals[j])));
        const n = vals[seqIdx] as number;
        if (n <= (last.get(src) ?? Number.NEGATIVE_INFINITY)) continue;
        last.set(src, n);
        kept.push(vals);
      }
    } else if (key && key.length > 0) {
      for (const k of key)
        if (!types.has(k) && !d.columns.has(k))
          throw new IngestBadInputError(undefined, `the dedup key column "${k}" is in no row`, k, "Name key columns the rows have (?key=a,b or --dedup-key).");
      const dw = await d.dedupFor(key, this.options.dedupWindowMs * 1000, () => this.pond.view());
      const keyIdx = key.map((k) => cols.findIndex(([n]) => n === k));
      const keys = rows.map((vals) => dw.keyOfValues(keyIdx.map((j) => (j < 0 ? null : vals[j]))));
      // A row older than the window's start is checked against the committed rows near its
      // time: a sender whose acknowledgements a crash took re-sends rows that may be durable
      // already, and may reach back further than the window. Done again if a flush committed
      // (and evicted keys) while the lookup read.
      let near: Map<string, number[]> | undefined;
      for (let flushes = -1; flushes !== d.flushes; ) {
        flushes = d.flushes;
        const late = lateRows(rows, keys, timeIdx, dw);
        near = late ? await d.committedKeysBetween(dw, await this.pond.view(), late.lo - dw.windowUs, late.hi + dw.windowUs) : undefined;
      }
      kept = [];
      for (let i = 0; i < rows.length; i++) {
        const vals = rows[i]!;
        const k = keys[i]!;
        const t = vals[timeIdx] as number;
        if (dw.has(k)) continue;
        if (near && dw.nearCommitted(near, k, t)) continue;
        dw.add(k, t);
        kept.push(vals);
      }
    }
    const deduplicated = rows.length - kept.length;
    // From here on the request is taken: the destination's state changes, then the write-ahead record.
    d.kind ??= "series";
    d.timeColumn ??= timeColumn;
    for (const [name, type] of cols) if (!d.columns.has(name)) d.columns.set(name, type);
    d.deduplicated += deduplicated;
    if (deduplicated > 0) this.m.dedup.inc({ destination: d.path }, deduplicated);
    if (kept.length > 0) {
      const s = ++d.lastSeq;
      const record: Record<string, unknown> = {
        s,
        b: req.bytes,
        t: timeColumn,
        c: cols,
        r: kept,
        ...(key ? { k: key } : {}),
        ...(req.sequence !== undefined ? { q: req.sequence } : {}),
      };
      d.addChunk(cols, kept, seqInfo);
      d.bytes += req.bytes;
      d.accepted += kept.length;
      this.m.rows.inc({ destination: d.path }, kept.length);
      const written = this.wal.append(d.path, record);
      this.afterAdd(d);
      // Not durable when this throws: the sender gets an error. The rows stay buffered (and
      // their keys seen), so its re-send is dropped as a duplicate unless the process dies first.
      await written;
    }
    return { accepted: kept.length, deduplicated, durable: false, destination: d.path };
  }

  private async acceptEvents(d: Destination, req: IngestRequest): Promise<IngestResult> {
    if (d.kind === "series") {
      throw new IngestWrongDestinationError(
        d.path,
        "it is a file:series, which takes rows, not CDC events",
        "Send CDC events to a file:table (or a new path).",
      );
    }
    const events = parseEvents(req.records, req.unit);
    d.kind ??= "table";
    const fresh: CdcEvent[] = [];
    for (const e of events) {
      if (e.sequence <= d.applied || d.pending.has(e.sequence)) continue;
      d.pending.set(e.sequence, e);
      fresh.push(e);
    }
    const deduplicated = events.length - fresh.length;
    d.deduplicated += deduplicated;
    if (deduplicated > 0) this.m.dedup.inc({ destination: d.path }, deduplicated);
    if (fresh.length > 0) {
      d.bytes += req.bytes;
      d.accepted += fresh.length;
      this.m.rows.inc({ destination: d.path }, fresh.length);
      const written = this.wal.append(d.path, { s: ++d.lastSeq, e: fresh });
      this.afterAdd(d);
      await written;
    }
    return { accepted: fresh.length, deduplicated, durable: false, destination: d.path };
  }

  /** Starts the interval timer on the first unflushed row; flushes at once past a row or byte threshold. */
  private afterAdd(d: Destination, thresholds = true): void {
    // The buffer gauges follow requests at most every 100 ms (their labels cost more than the request's own work); flushes set them exactly.
    const now = performance.now();
    if (now - d.gaugesAt >= 100) this.updateGauges(d);
    if (d.firstAt === undefined) {
      d.firstAt = Date.now();
      d.timer = setTimeout(
        () => void this.enqueueFlush(d, "interval").catch((e) => logger.error("ingest flush failed", { destination: d.path, error: String(e) })),
        this.options.flushIntervalMs,
      );
    }
    if (!thresholds) return;
    const reason = d.buffered >= this.options.flushRows ? "rows" : d.bytes >= this.options.flushBytes ? "bytes" : undefined;
    if (reason && !d.flushQueued)
      void this.enqueueFlush(d, reason).catch((e) => logger.error("ingest flush failed", { destination: d.path, error: String(e) }));
  }

  private updateGauges(d: Destination): void {
    d.gaugesAt = performance.now();
    this.m.bufferBytes.set(d.bytes, { destination: d.path });
    this.m.bufferRows.set(d.buffered, { destination: d.path });
  }

  /** Flushes every destination with buffered rows (POST /flush). */
  async flushAll(reason: FlushReason = "request"): Promise<FlushResult[]> {
    const out: FlushResult[] = [];
    for (const p of [...this.dests.values()]) {
      let d: Destination;
      try {
        d = await p;
      } catch {
        continue; // a destination that failed to load holds nothing
      }
      const r = await this.enqueueFlush(d, reason);
      if (r) out.push(r);
    }
    return out;
  }

  /** Flushes one destination (POST /flush?path=); an unknown or never-used one has nothing to flush. */
  async flushOne(path: string, reason: FlushReason = "request"): Promise<FlushResult[]> {
    const p = this.dests.get(normalizePath(path.startsWith("/") ? path : `/${path}`));
    if (!p) return [];
    const r = await this.enqueueFlush(await p, reason);
    return r ? [r] : [];
  }

  /** Flushes `d` after the flushes already queued (one at a time). */
  private enqueueFlush(d: Destination, reason: FlushReason): Promise<FlushResult | undefined> {
    d.flushQueued = true;
    const run = this.chain.then(() => {
      d.flushQueued = false;
      return this.flush(d, reason);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async flush(d: Destination, reason: FlushReason): Promise<FlushResult | undefined> {
    if (d.buffered === 0) {
      // Nothing to write; segments that hold only committed records (a replay that found everything committed) go.
      await this.wal.remove(d.path, await this.wal.seal(d.path));
      return undefined;
    }
    const t0 = performance.now();
    if (d.timer) clearTimeout(d.timer);
    d.timer = undefined;
    d.firstAt = undefined;
    // The rows (or events) this flush takes, the watermark and the sealed segments are one
    // cut, made without an await: a row that arrives later is in a later segment and a later flush.
    const through = d.lastSeq;
    const taken = d.kind === "table" ? [] : d.takeChunks();
    const takenBytes = d.kind === "table" ? 0 : d.bytes;
    const pendingCopy = new Map(d.pending);
    if (d.kind !== "table") d.bytes = 0;
    const sealed = this.wal.seal(d.path);
    const files = await sealed;
    const view = () => this.pond.view();
    let built: BuiltVersion;
    let seqs: Record<string, Record<string, number>> | undefined;
    let applied = d.applied;
    let state: Map<string, Record<string, unknown>> | undefined;
    if (d.kind === "table") {
      state = new Map(await d.tableState(view));
      const a = applyContiguous(state, pendingCopy, d.applied);
      if (a.count === 0) return undefined; // waiting for a gap to fill
      applied = a.applied;
      built = buildTableVersion(state.values());
    } else {
      built = await buildSeriesVersion(taken, d.timeColumn!);
      seqs = committedSequences(d.committedSequences, taken);
    }
    this.updateGauges(d);
    let version: number;
    let seq: number;
    try {
      ({ version, seq } = await this.commit(d, built, through, applied, seqs));
    } catch (e) {
      // Nothing committed: the rows go back in front of the buffer, their segments stay sealed for the next try.
      if (d.kind !== "table") {
        d.putBack(taken);
        d.bytes += takenBytes;
      }
      this.afterAdd(d, false);
      throw e;
    }
    d.exists = true;
    d.committedThrough = through;
    if (seqs) d.committedSequences = seqs;
    if (d.kind === "table") {
      d.tableRows = state;
      for (let s = d.applied + 1; s <= applied; s++) d.pending.delete(s);
      d.applied = applied;
      if (d.pending.size === 0) d.bytes = 0;
      // Events still waiting behind a gap live in the sealed segments: write them again before those go.
      if (d.pending.size > 0) await this.wal.append(d.path, { s: ++d.lastSeq, e: [...d.pending.values()] });
      if (d.pending.size > 0 && d.firstAt === undefined) d.firstAt = Date.now();
    }
    await this.wal.remove(d.path, files);
    for (const w of d.dedup.values()) (await w).evict();
    d.flushes++;
    const rows = built.rows;
    d.lastFlush = { at: new Date().toISOString(), reason, rows, version, seq };
    this.m.flushes.inc({ reason });
    this.m.commits.inc({ destination: d.path });
    this.m.flushSeconds.observe((performance.now() - t0) / 1000);
    this.updateGauges(d);
    logger.info("ingest flushed", { destination: d.path, reason, rows, version, seq, ms: Math.round(performance.now() - t0) });
    return { destination: d.path, reason, rows, version, seq };
  }

  /** Writes `built` as the next version of `d` (on the flush thread); returns its version and the transaction's sequence. */
  private commit(
    d: Destination,
    built: BuiltVersion,
    through: number,
    applied: number,
    seqs: Record<string, Record<string, number>> | undefined,
  ): Promise<{ version: number; seq: number }> {
    const table = d.kind === "table";
    return this.flusher.write({
      path: d.path,
      entryType: table ? "file:table" : "file:series",
      fields: built.fields,
      data: built.data,
      ...(built.sortByFirst ? { sortByFirst: true } : {}),
      attributes: {
        rows: built.rows,
        columns: built.columns,
        ...(table ? { [CDC_ATTR]: applied } : { timestamp_column: d.timeColumn }),
        [THROUGH_ATTR]: through,
        ...(seqs && Object.keys(seqs).length > 0 ? { [SEQUENCES_ATTR]: seqs } : {}),
      },
      ...(built.minUs !== undefined && built.maxUs !== undefined ? { minUs: built.minUs, maxUs: built.maxUs } : {}),
      note: `ingested ${built.rows} ${table ? "table rows" : "rows"} into ${d.path} (${table ? "file:table" : "file:series"} v{version})`,
    });
  }

  /** What `/status` shows: per destination, the buffer, counts and the last flush. */
  status(): Record<string, unknown> {
    const destinations: Record<string, unknown>[] = [];
    for (const p of this.dests.values()) {
      const d = Bun.peek(p);
      if (!(d instanceof Destination)) continue;
      destinations.push({
        destination: d.path,
        kind: d.kind ?? "new",
        bufferedRows: d.buffered,
        bufferedBytes: d.bytes,
        firstUnflushedAt: d.firstAt === undefined ? null : new Date(d.firstAt).toISOString(),
        accepted: d.accepted,
        deduplicated: d.deduplicated,
        lastFlush: d.lastFlush ?? null,
        ...(d.kind === "table" ? { cdc: { applied: d.applied, waiting: d.pending.size, gapAt: gapOf(d.pending, d.applied) ?? null } } : {}),
      });
    }
    return { destinations, walSyncs: this.wal.syncs, options: this.options };
  }

  /** Stops taking rows, flushes every buffer, commits, and drops the write-ahead lock. */
  async close(): Promise<FlushResult[]> {
    if (this.closed) return [];
    this.closed = true;
    let out: FlushResult[] = [];
    try {
      out = await this.flushAll("shutdown");
    } finally {
      for (const p of this.dests.values()) {
        const d = Bun.peek(p);
        if (d instanceof Destination && d.timer) clearTimeout(d.timer);
      }
      this.flusher.close();
      await this.wal.close();
    }
    return out;
  }
}

/**
 * The event-time range of the rows of a request that fall before the dedup window's start
 * (as it will be once the request's own rows are seen) and are not in the window: the rows
 * to check against committed rows. Undefined when there are none.
 */
function lateRows(rows: readonly unknown[][], keys: readonly string[], timeIdx: number, dw: DedupWindow): { lo: number; hi: number } | undefined {
  let newest = dw.newestUs;
  for (const vals of rows) if ((vals[timeIdx] as number) > newest) newest = vals[timeIdx] as number;
  const start = newest - dw.windowUs;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.length; i++) {
    const t = rows[i]![timeIdx] as number;
    if (t >= start || dw.has(keys[i]!)) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return lo <= hi ? { lo, hi } : undefined;
}
