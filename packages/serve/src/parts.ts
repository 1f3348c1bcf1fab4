/**
 * The parts that plug into `pond serve` beside its own routes, asked in order for each
 * request after authentication (see part.ts). Streaming ingest (`POST /ingest/…`,
 * `POST /flush`) plugs in here: `await createIngestPart(ctx, options)` from
 * ./ingest/index.ts, once that branch lands.
 */
import type { IngestOptions, PartContext, ServerPart } from "./part.ts";

/** Creates every part for a server on `ctx` with the ingest settings `options`. */
export async function createParts(ctx: PartContext, options: IngestOptions): Promise<ServerPart[]> {
  void ctx;
  void options;
  return [];
}
