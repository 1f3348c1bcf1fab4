/** Request bodies read with a limit, and the `{error: {code, message, hint, data}}` answer every failure gets. */
import { PondError } from "@pond/diagnostics";
import { BodyTooLargeError, httpStatus, MethodNotAllowedError } from "./errors.ts";

/**
 * The body as bytes, at most `limit`: a Content-Length over it is refused before reading,
 * and a chunked body is cut off as soon as it passes it (BodyTooLargeError, 413).
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) throw new BodyTooLargeError(limit);
  if (!req.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new BodyTooLargeError(limit);
    parts.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The JSON answer for `e` at its HTTP status, the same shape on every route (ingest's too):
 * `{error: {code, message, hint?, data?}}` (data: what the error names, e.g. the line and column).
 */
export function errorResponse(e: unknown): Response {
  const status = httpStatus(e);
  const error: Record<string, unknown> =
    e instanceof PondError
      ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(Object.keys(e.data ?? {}).length > 0 ? { data: e.data } : {}) }
      : { code: "internal", message: "internal error (this is a bug; the server log has the stack)" };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (e instanceof MethodNotAllowedError) headers.allow = e.allow.join(", ");
  return new Response(JSON.stringify({ error }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n", { status, headers });
}

/** A JSON answer. */
export function jsonResponse(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}
