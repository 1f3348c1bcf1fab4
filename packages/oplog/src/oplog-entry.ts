/**
 * One row of the pond's data log: a version of a node. One schema everywhere; the
 * Parquet codec (`parquet-codec.ts`) is the only place that knows how it is laid out on disk.
 *
 * - `part_id`: the parent directory's node id, or a directory's own id for its snapshot.
 * - `content`: inline bytes, or null when stored in `_large_files/sha256=<hex>`.
 *   A directory's content is an Arrow IPC stream of its entries (see `directory-codec.ts`).
 * - `timestamp`, `min_event_time`, `max_event_time`: µs since the epoch, UTC.
 * - `attributes`: JSON text.
 */
export interface OplogEntry {
  part_id: string;
  node_id: string;
  file_type: string;
  version: number;
  timestamp: bigint;
  content: Uint8Array | null;
  sha256: string;
  size: number;
  min_event_time: bigint | null;
  max_event_time: bigint | null;
  attributes: string;
}
