/**
 * An ObjectStore over an S3 bucket (AWS, R2, MinIO, s3rver…), under a key prefix.
 * This is the only module that imports Bun's S3 client; swapping it is a one-file change.
 *
 * How each clause of the ObjectStore contract is met:
 * - Atomic visibility: S3 publishes a PUT (single or multipart) whole or not at all.
 *   A streamed body is sent as a ReadableStream; if the source fails, the stream
 *   errors and Bun aborts the upload, so nothing appears. (Bun's `writer().end(err)`
 *   completes the upload instead, which is why it is not used.)
 * - put-if-absent: Bun's client has no conditional-write option, so a small body
 *   (≤ `partSize`) is sent with a presigned PUT and `If-None-Match: *`, which AWS S3,
 *   R2 and MinIO honour atomically (412 when the key exists). A HEAD comes first so
 *   an existing object costs no upload. Servers that ignore the header (s3rver,
 *   older S3-compatibles) degrade to "HEAD, then PUT": racy between processes. Pond
 *   only relies on it for commits to a remote, and a remote has one writer: the pond
 *   that owns it, pushing under its write lock, checked by the remote's identity
 *   object. Within one store instance, ifAbsent puts of the same key are serialized,
 *   so concurrent callers in one process always agree on one winner. A streamed
 *   ifAbsent body larger than `partSize` is always "HEAD, then multipart PUT"; only
 *   content-addressed payloads are that large, where a race writes the same bytes.
 * - list: S3 lists keys in UTF-8 byte order, which the contract asks for.
 * - Time limits: every request has one (`timeoutMs`, more for large bodies); a stream
 *   or a download to a file fails when no bytes move for `timeoutMs`. A refused
 *   connection fails at once.
 *   Errors become the Remote*Error classes of errors.ts; messages name the store and
 *   endpoint, never a credential, and a presigned URL never leaves this module.
 */
import { S3Client } from "bun";
import { statSync } from "node:fs";
import {
  ObjectNotFoundError,
  RemoteAccessDeniedError,
  RemoteBucketNotFoundError,
  RemoteRequestError,
  RemoteTimeoutError,
  RemoteUnreachableError,
} from "./errors.ts";
import { concatBytes } from "@pond/tinyfs";
import { checkKey } from "./object-key.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";

export interface S3StoreOptions {
  bucket: string;
  /** Keys live under `prefix/` (no leading or trailing slash; "" for the bucket root). */
  prefix?: string;
  /** `http(s)://host:port`; default AWS for the region. Path-style URLs are always used. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** A request that has not finished (or a stream that has not moved) in this long fails. Default 30 s. */
  timeoutMs?: number;
  /** Multipart part size; bodies up to this size are one PUT. Default 8 MiB. */
  partSize?: number;
  /** Parts in flight per multipart upload. Default 4. */
  queueSize?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Extra time a body may take per byte on top of `timeoutMs`: 1 ms per KB is a 1 MB/s floor. */
const MS_PER_BYTE = 1 / 1000;

const AUTH_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AuthorizationHeaderMalformed",
  "InvalidSecurity",
  "MissingSecurityHeader",
]);
const NETWORK_CODES = new Set([
  "ConnectionRefused",
  "ConnectionClosed",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "FailedToOpenSocket",
  "ConnectionTimeout",
  "UnableToConnect",
  "DNSError",
]);

export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  readonly endpoint: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly secrets: string[];
  /** Tail of the chain of ifAbsent puts per key (see the header comment). */
  private readonly putChains = new Map<string, Promise<unknown>>();

  constructor(opts: S3StoreOptions) {
    this.prefix = (opts.prefix ?? "").replace(/^\/+|\/+$/g, "");
    this.url = `s3://${opts.bucket}${this.prefix ? "/" + this.prefix : ""}`;
    const region = opts.region ?? "us-east-1";
    this.endpoint = opts.endpoint ?? `https://s3.${region}.amazonaws.com`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = opts.queueSize ?? 4;
    this.secrets = [opts.accessKeyId, opts.secretAccessKey, opts.sessionToken].filter((s): s is string => typeof s === "string" && s.length > 0);
    this.client = new S3Client({
      bucket: opts.bucket,
      region,
      endpoint: this.endpoint,
      virtualHostedStyle: false,
      accessKeyId: opts.accessKeyId,
      secretAccessKey: opts.secretAccessKey,
      sessionToken: opts.sessionToken,
    });
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const file = this.client.file(this.full(key));
    const what = `reading ${key}`;
    try {
      if (!range) return await this.deadline(what, file.bytes(), this.timeoutMs);
      if (range.length <= 0) return new Uint8Array(0);
      const got = await this.deadline(what, file.slice(range.offset, range.offset + range.length).bytes(), this.timeoutMs + range.length * MS_PER_BYTE);
      // HTTP lets a server ignore Range and send the whole object (s3rver does for
      // `bytes=0-0`); then cut the range out of it.
      return got.length > range.length ? got.slice(range.offset, range.offset + range.length) : got;
    } catch (e) {
      // A range that starts past the end: return what there is, as the local store does.
      if (range && s3Code(e) === "InvalidRange") return new Uint8Array(0);
      throw this.translate(e, what, key);
    }
  }

  async *getStream(key: string): AsyncIterable<Uint8Array> {
    const what = `reading ${key}`;
    const reader = this.client.file(this.full(key)).stream().getReader();
    // One watchdog per stream, re-armed by each chunk (a race per 64 KiB read costs more
    // than the read): if nothing arrives for timeoutMs, the read is cancelled.
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      reader.cancel().catch(() => {}); // the timeout is what gets reported
    }, this.timeoutMs);
    try {
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          if (timedOut) throw new RemoteTimeoutError(this.url, this.endpoint, what, this.timeoutMs);
          throw this.translate(e, what, key);
        }
        if (timedOut) throw new RemoteTimeoutError(this.url, this.endpoint, what, this.timeoutMs);
        if (r.done) return;
        watchdog.refresh();
        if (r.value.length) yield r.value;
      }
    } finally {
      clearTimeout(watchdog);
      reader.cancel().catch(() => {}); // releasing a finished or failed stream: nothing to report
    }
  }

  /**
   * A presigned GET whose body Bun writes to the file natively: no chunk passes through
   * JavaScript, which matters on a machine where the server shares the CPU. A fetch
   * rather than `Bun.write(path, client.file(key))` because a fetch can be aborted: a
   * watchdog aborts it when the file has not grown for `timeoutMs`.
   */
  async downloadTo(key: string, hostPath: string): Promise<void> {
    const what = `reading ${key}`;
    const url = this.client.presign(this.full(key), { method: "GET", expiresIn: 3600 });
    const abort = new AbortController();
    let stalled = false;
    let lastSize = -1;
    let lastMove = Date.now();
    const watchdog = setInterval(
      () => {
        const size = statSync(hostPath, { throwIfNoEntry: false })?.size ?? -1;
        if (size !== lastSize) {
          lastSize = size;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > this.timeoutMs) {
          stalled = true;
          abort.abort();
        }
      },
      Math.min(1000, this.timeoutMs / 4),
    );
    try {
      let res: Response;
      try {
        res = await fetch(url, { signal: abort.signal });
        if (res.ok) {
          await Bun.write(hostPath, res);
          return;
        }
      } catch (e) {
        if (stalled) throw new RemoteTimeoutError(this.url, this.endpoint, what, this.timeoutMs);
        if ((e as { path?: unknown }).path === hostPath) throw e; // the host file failed (ENOSPC…), not the remote
        // Never pass on a fetch error itself: it may carry the presigned URL.
        throw this.translate({ code: (e as { code?: string }).code ?? "ConnectionClosed", message: "" }, what, key);
      }
      throw this.responseError(res.status, await res.text(), what, key);
    } finally {
      clearInterval(watchdog);
    }
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: { ifAbsent?: boolean } = {}): Promise<"created" | "exists"> {
    checkKey(key);
    if (!opts.ifAbsent) {
      await this.putAny(key, body, false);
      return "created";
    }
    // Serialize ifAbsent puts of one key in this process (see the header comment).
    const prev = this.putChains.get(key) ?? Promise.resolve();
    const mine = prev.then(
      () => this.putIfAbsent(key, body),
      () => this.putIfAbsent(key, body),
    );
    this.putChains.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.putChains.get(key) === mine) this.putChains.delete(key);
    }
  }

  async head(key: string): Promise<ObjectMeta | null> {
    const what = `checking ${key}`;
    try {
      const st = await this.deadline(what, this.client.stat(this.full(key)), this.timeoutMs);
      return { key, size: st.size, lastModified: st.lastModified.getTime() };
    } catch (e) {
      if (isNotFound(e)) return null;
      if (s3Code(e) === "UnknownError") return this.diagnoseHead(key, what);
      throw this.translate(e, what, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectMeta> {
    const base = this.prefix ? this.prefix + "/" : "";
    const what = `listing ${prefix === "" ? "all keys" : `keys under ${prefix}`}`;
    let continuationToken: string | undefined;
    do {
      let page: Awaited<ReturnType<S3Client["list"]>>;
      try {
        page = await this.deadline(what, this.client.list({ prefix: base + prefix, continuationToken, maxKeys: 1000 }), this.timeoutMs);
      } catch (e) {
        throw this.translate(e, what, prefix);
      }
      for (const o of page.contents ?? []) {
        if (!o.key.startsWith(base)) continue;
        yield { key: o.key.slice(base.length), size: o.size ?? 0, lastModified: o.lastModified ? Date.parse(o.lastModified) : 0 };
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(key: string): Promise<void> {
    const what = `deleting ${key}`;
    try {
      await this.deadline(what, this.client.delete(this.full(key)), this.timeoutMs);
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.translate(e, what, key);
    }
  }

  // -------------------------------------------------------------------------

  private full(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /**
   * A HEAD answer has no body, so Bun reports any status but 404 as "UnknownError"
   * (403 for bad credentials, too). A one-byte GET of the same key needs the same
   * permission and says what is wrong.
   */
  private async diagnoseHead(key: string, what: string): Promise<ObjectMeta | null> {
    try {
      await this.deadline(what, this.client.file(this.full(key)).slice(0, 1).bytes(), this.timeoutMs);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.translate(e, what, key);
    }
    throw new RemoteRequestError(this.url, this.endpoint, what, "UnknownError", "HEAD failed and GET worked");
  }

  private async putIfAbsent(key: string, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<"created" | "exists"> {
    if ((await this.head(key)) !== null) return "exists";
    return this.putAny(key, body, true);
  }

  /** Sends a body: small ones (whole, or streams that end within partSize) as one PUT, larger as multipart. */
  private async putAny(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, ifAbsent: boolean): Promise<"created" | "exists"> {
    if (body instanceof Uint8Array) return this.putBytes(key, body, ifAbsent);
    const it = body[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { value, done } = await it.next();
      if (done) return this.putBytes(key, concatBytes(head, size), ifAbsent);
      if (value.length === 0) continue;
      head.push(value); // the store's to keep (ObjectStore.put): no copy
      size += value.length;
      if (size > this.partSize) break;
    }
    await this.putStream(key, head, it);
    return "created";
  }

  private async putBytes(key: string, bytes: Uint8Array, ifAbsent: boolean): Promise<"created" | "exists"> {
    const what = `writing ${key}`;
    const limit = this.timeoutMs + bytes.length * MS_PER_BYTE;
    if (!ifAbsent) {
      try {
        await this.deadline(what, this.client.write(this.full(key), bytes), limit);
      } catch (e) {
        throw this.translate(e, what, key);
      }
      return "created";
    }
    const url = this.client.presign(this.full(key), { method: "PUT", expiresIn: 3600 });
    let res: Response;
    try {
      res = await fetch(url, { method: "PUT", body: bytes, headers: { "If-None-Match": "*" }, signal: AbortSignal.timeout(limit) });
    } catch (e) {
      // Never pass on the fetch error itself: it may carry the presigned URL.
      if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) throw new RemoteTimeoutError(this.url, this.endpoint, what, limit);
      throw this.translate({ code: (e as { code?: string }).code ?? "ConnectionRefused", message: "" }, what, key);
    }
    const text = await res.text();
    if (res.status === 412 || res.status === 409) return "exists"; // 409: a concurrent conditional write won (AWS)
    if (res.ok) return "created";
    throw this.responseError(res.status, text, what, key);
  }

  /** The error a failed presigned request's response describes (S3 puts its code in an XML body). */
  private responseError(status: number, body: string, what: string, key: string): unknown {
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? (status === 404 ? "NoSuchKey" : `HTTP ${status}`);
    const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? "";
    return this.translate({ code, message }, what, key);
  }

  /**
   * Multipart upload of `head` then the rest of `it`, through a ReadableStream so
   * that a failing source (or a stalled upload) errors the stream and Bun aborts it.
   */
  private async putStream(key: string, head: Uint8Array[], it: AsyncIterator<Uint8Array>): Promise<void> {
    const what = `writing ${key}`;
    let lastPull = Date.now();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let stalled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      async pull(c) {
        lastPull = Date.now();
        const first = head.shift();
        if (first) {
          c.enqueue(first);
          return;
        }
        try {
          const { value, done } = await it.next();
          if (done) c.close();
          else if (value.length) c.enqueue(value); // the store's to keep (ObjectStore.put): no copy
        } catch (e) {
          c.error(e);
        }
      },
    });
    // The upload pulls as it sends; if it stops pulling for timeoutMs, the server has stalled.
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastPull > this.timeoutMs) {
          stalled = true;
          controller.error(new RemoteTimeoutError(this.url, this.endpoint, what, this.timeoutMs));
        }
      },
      Math.min(1000, this.timeoutMs / 4),
    );
    try {
      await this.client.write(this.full(key), new Response(stream), { partSize: this.partSize, queueSize: this.queueSize });
    } catch (e) {
      if (stalled) throw new RemoteTimeoutError(this.url, this.endpoint, what, this.timeoutMs);
      if (!isS3Error(e)) throw e; // the source's own error (the stream was errored with it)
      throw this.translate(e, what, key);
    } finally {
      clearInterval(watchdog);
      await it.return?.();
    }
  }

  /** Rejects with RemoteTimeoutError when `p` takes longer than `ms`. */
  private deadline<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout>;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RemoteTimeoutError(this.url, this.endpoint, what, ms)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** Maps a client error to the store's error classes; the message never carries a credential. */
  private translate(e: unknown, what: string, key: string): unknown {
    if (e instanceof RemoteTimeoutError || e instanceof ObjectNotFoundError) return e;
    const code = s3Code(e);
    if (code === undefined) return e;
    if (code === "NoSuchKey" || code === "NotFound") return new ObjectNotFoundError(this.url, key);
    if (code === "NoSuchBucket") return new RemoteBucketNotFoundError(this.url, this.endpoint, this.url.slice(5).split("/")[0]!);
    if (AUTH_CODES.has(code)) return new RemoteAccessDeniedError(this.url, this.endpoint, code);
    if (code === "ERR_S3_MISSING_CREDENTIALS") return new RemoteAccessDeniedError(this.url, this.endpoint, "no credentials were given");
    if (NETWORK_CODES.has(code)) return new RemoteUnreachableError(this.url, this.endpoint, describeNetwork(code));
    const message = this.scrub(String((e as { message?: unknown }).message ?? ""));
    return new RemoteRequestError(this.url, this.endpoint, what, code, message === "an unexpected error has occurred" ? "" : message);
  }

  private scrub(s: string): string {
    let out = s.replace(/https?:\/\/\S*/g, this.endpoint);
    for (const secret of this.secrets) out = out.split(secret).join("***");
    return out;
  }
}

function s3Code(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function isS3Error(e: unknown): boolean {
  return typeof e === "object" && e !== null && ((e as { name?: unknown }).name === "S3Error" || s3Code(e) !== undefined);
}

function isNotFound(e: unknown): boolean {
  const code = s3Code(e);
  return code === "NoSuchKey" || code === "NotFound";
}

function describeNetwork(code: string): string {
  switch (code) {
    case "ConnectionRefused":
    case "ECONNREFUSED":
      return "connection refused (nothing is listening there)";
    case "ConnectionClosed":
    case "ECONNRESET":
    case "EPIPE":
      return "the connection was closed in the middle of a request";
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "DNSError":
      return "the host name does not resolve";
    default:
      return `network error ${code}`;
  }
}
