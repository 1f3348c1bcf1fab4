/**
 * The parts that plug into `pond serve` beside its own routes, asked in order for each
 * request after authentication (see part.ts): streaming ingest (`POST /ingest/…`,
 * `POST /flush`, ./ingest/http-part.ts). Opening it takes the pond's ingest lock and
 * replays the write-ahead file a killed server left.
 *
 * One process ingests into a pond at a time. A second `pond serve` on the same pond (or one
 * started while `pond ingest` runs) still serves queries, the site and its status: its
 * ingest routes answer 503 `ingest_locked` naming the process that holds the lock.
 */
import { logger } from "@pond/diagnostics";
import { errorResponse } from "./http-body.ts";
import { IngestLockedError } from "./ingest/errors.ts";
import { createIngestPart } from "./ingest/http-part.ts";
import type { IngestOptions, PartContext, ServerPart } from "./part.ts";

/** Creates every part for a server on `ctx` with the ingest settings `options`. */
export async function createParts(ctx: PartContext, options: IngestOptions): Promise<ServerPart[]> {
  try {
    return [await createIngestPart(ctx, options, ctx.command === undefined ? undefined : [...ctx.command])];
  } catch (e) {
    if (!(e instanceof IngestLockedError)) throw e;
    logger.warn("ingest_locked", { message: e.message });
    return [lockedIngestPart(e)];
  }
}

/** Ingest's routes while another process holds the pond's ingest lock: 503 with that error. */
function lockedIngestPart(locked: IngestLockedError): ServerPart {
  return {
    name: "ingest",
    async handle(_req: Request, url: URL): Promise<Response | undefined> {
      if (url.pathname !== "/flush" && !url.pathname.startsWith("/ingest/")) return undefined;
      return errorResponse(locked);
    },
    status: () => ({ available: false, error: { code: locked.code, message: locked.message } }),
    close: async () => {},
  };
}
