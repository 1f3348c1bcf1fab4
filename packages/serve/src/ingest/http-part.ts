/**
 * The HTTP face of streaming ingest, a ServerPart `pond serve` mounts:
 *
 *   POST /ingest/<pond path>[?key=a,b][&sequence=col][&sync=true][&timestamp=col]
 *        body: JSON lines, a JSON array of objects, or CSV with a header (Content-Type: text/csv)
 *        → 200 {accepted, deduplicated, durable, destination[, version]}
 *        → 4xx {error: {code, message, hint, data: {line, column, problem}}}: nothing of the body was taken
 *   POST /flush[?path=<pond path>] → 200 {flushed: [{destination, reason, rows, version, seq}]}
 */
import { PondError } from "@pond/diagnostics";
import type { IngestOptions, PartContext, ServerPart } from "../part.ts";
import { formatOf, parseBody } from "./body.ts";
import { BodyTooLargeError } from "../errors.ts";
import { IngestBadInputError, statusOf } from "./errors.ts";
import { Ingester } from "./ingester.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The largest request body taken (64 MiB): a bigger one is 413, unread. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Opens ingest on the pond (replaying its write-ahead file) and returns the part answering its routes. */
export async function createIngestPart(
  ctx: PartContext,
  options: IngestOptions,
  /** The command line flushes record in `pond log` (the server's own). */
  command: string[] = ["pond", "serve"],
): Promise<ServerPart & { ingester: Ingester }> {
  const ingester = await Ingester.open(ctx, options, command);
  return {
    name: "ingest",
    ingester,
    async handle(req: Request, url: URL): Promise<Response | undefined> {
      const p = url.pathname;
      if (p !== "/flush" && !p.startsWith("/ingest/")) return undefined;
      if (req.method !== "POST") return json(405, { error: { code: "method_not_allowed", message: `${p} takes POST` } }, { Allow: "POST" });
      try {
        if (p === "/flush") {
          const only = url.searchParams.get("path");
          return json(200, { flushed: only ? await ingester.flushOne(only, "request") : await ingester.flushAll("request") });
        }
        return json(200, await ingest(ingester, req, url));
      } catch (e) {
        ingester.countError(e);
        if (!(e instanceof PondError)) throw e;
        return json(statusOf(e), { error: { code: e.code, message: e.message, hint: e.hint, data: e.data } });
      }
    },
    status: () => ingester.status(),
    close: async () => {
      await ingester.close();
    },
  };
}

async function ingest(ingester: Ingester, req: Request, url: URL) {
  const dest = decodeURIComponent(url.pathname.slice("/ingest".length));
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new BodyTooLargeError(MAX_BODY_BYTES);
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw new BodyTooLargeError(MAX_BODY_BYTES);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new IngestBadInputError(undefined, "is not UTF-8 text");
  }
  const format = formatOf(req.headers.get("content-type"), text);
  const { records, unit } = parseBody(text, format);
  const key = url.searchParams.get("key");
  const sync = url.searchParams.get("sync");
  return ingester.accept({
    dest,
    records,
    unit,
    fromText: format === "csv",
    bytes: bytes.length,
    sync: sync === "true" || sync === "1",
    ...(key
      ? {
          key: key
            .split(",")
            .map((k) => k.trim())
            .filter((k) => k),
        }
      : {}),
    ...(url.searchParams.get("timestamp") ? { timestampColumn: url.searchParams.get("timestamp")! } : {}),
    ...(url.searchParams.get("sequence") ? { sequence: url.searchParams.get("sequence")! } : {}),
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}
