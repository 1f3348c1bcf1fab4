/**
 * Opens the ObjectStore a remote's URL names: an S3 bucket and prefix, or a host
 * folder (`file:///…`, handy for a USB disk or a network mount, and for tests).
 */
import { LocalObjectStore, S3ObjectStore, type ObjectStore } from "@pond/oplog";
import { BadRemoteError } from "./errors.ts";
import { parseRemoteUrl, resolveCredentials, type RemoteLocation } from "./remote-config.ts";

/** Options for S3 transfers; tests and the benchmark tune them. */
export interface RemoteStoreTuning {
  partSize?: number;
  queueSize?: number;
}

/**
 * The store for `loc`. `name` is used in messages only. Credentials are resolved from
 * `env` now (MissingCredentialsError when there are none for an S3 remote);
 * `POND_REMOTE_TIMEOUT` (seconds, default 30) bounds each request.
 */
export function openRemoteStore(name: string, loc: RemoteLocation, env: Record<string, string | undefined>, tuning: RemoteStoreTuning = {}): ObjectStore {
  const parsed = parseRemoteUrl(loc.url);
  if (parsed.kind === "file") return new LocalObjectStore(parsed.path);
  const creds = resolveCredentials(name, loc, env);
  return new S3ObjectStore({
    bucket: parsed.bucket,
    prefix: parsed.prefix,
    endpoint: loc.endpoint,
    region: loc.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...creds,
    timeoutMs: remoteTimeoutMs(env),
    partSize: tuning.partSize,
    queueSize: tuning.queueSize,
  });
}

function remoteTimeoutMs(env: Record<string, string | undefined>): number {
  const v = env.POND_REMOTE_TIMEOUT;
  if (v === undefined || v === "") return 30_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new BadRemoteError(
      `POND_REMOTE_TIMEOUT="${v}"`,
      "it is not a positive number of seconds",
      "Set it to a number of seconds, e.g. POND_REMOTE_TIMEOUT=60.",
    );
  return n * 1000;
}
