import type { Registry } from "../metrics.ts";

/** Ingest's series in the server's metrics registry. */
export function makeMetrics(r: Registry) {
  return {
    rows: r.counter("pond_ingest_rows_total", "Rows (and CDC events) accepted, by destination"),
    dedup: r.counter("pond_ingest_rows_deduplicated_total", "Rows dropped as duplicates, by destination"),
    flushes: r.counter("pond_ingest_flushes_total", "Flushes, by reason"),
    commits: r.counter("pond_ingest_commits_total", "Versions committed by ingest, by destination"),
    bufferBytes: r.gauge("pond_ingest_buffer_bytes", "Accepted input bytes not yet flushed, by destination"),
    bufferRows: r.gauge("pond_ingest_buffer_rows", "Rows (or CDC events) not yet flushed, by destination"),
    walSyncs: r.counter("pond_ingest_wal_syncs_total", "fsyncs of the write-ahead file (one per group commit)"),
    errors: r.counter("pond_ingest_errors_total", "Ingest requests refused, by error code"),
    flushSeconds: r.histogram("pond_ingest_flush_seconds", "Time to build and commit one flush"),
  };
}
