/**
 * A pond's remotes, recorded in `control/remotes.json`: where each one is, how it is
 * used, how far it has been pushed or pulled, and which environment variables hold
 * its credentials. Secrets never enter this file: a credential setting is only ever a
 * `${env:NAME}` reference, resolved from the environment when the remote is used.
 */
import { isAbsolute } from "node:path";
import { readJsonControlFile, writeFileDurable } from "@pond/oplog";
import { BadRemoteError, MissingCredentialsError, RemoteNotFoundError, SecretOnCommandLineError } from "./errors.ts";
import type { PondPaths } from "./pond.ts";
import { envRefName } from "./env-ref.ts";

/**
 * `manual`: pushed when asked. `push`: also pushed after every write transaction.
 * `pull`: the pond follows this remote as a read-only mirror (at most one such remote).
 */
export type RemoteMode = "manual" | "push" | "pull";
export const REMOTE_MODES: readonly RemoteMode[] = ["manual", "push", "pull"];

export interface CredentialRefs {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Where a remote is and how to reach it: what `openRemoteStore` needs. */
export interface RemoteLocation {
  url: string;
  endpoint?: string;
  region?: string;
  /** `${env:NAME}` references only. */
  credentials?: CredentialRefs;
}

export interface RemoteConfig extends RemoteLocation {
  name: string;
  mode: RemoteMode;
  /** The newest data log version known to be on the remote, and when it was pushed. */
  lastPushed?: { version: number; at: string };
  lastPulled?: { version: number; at: string };
}

export type ParsedRemoteUrl = { kind: "s3"; bucket: string; prefix: string } | { kind: "file"; path: string };

/** Parses `s3://bucket[/prefix]` or `file:///absolute/folder`; anything else is BadRemoteError. */
export function parseRemoteUrl(url: string): ParsedRemoteUrl {
  const s3 = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (s3) {
    const bucket = s3[1]!;
    if (bucket.includes("@") || bucket.includes(":")) {
      throw new BadRemoteError(
        `remote URL "${redactUserinfo(url)}"`,
        "credentials or a port do not belong in an s3:// URL",
        "Give the endpoint with --endpoint and credentials through the environment.",
      );
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new BadRemoteError(`remote URL "${url}"`, `"${bucket}" is not a valid bucket name`);
    const prefix = (s3[2] ?? "").replace(/\/+$/, "");
    if (prefix.split("/").some((seg) => seg === "." || seg === "..") || prefix.includes("//"))
      throw new BadRemoteError(`remote URL "${url}"`, "the prefix has an empty, '.' or '..' segment");
    return { kind: "s3", bucket, prefix };
  }
  if (url.startsWith("file://")) {
    const path = decodeURIComponent(url.slice("file://".length));
    if (!isAbsolute(path))
      throw new BadRemoteError(`remote URL "${url}"`, "a file URL needs an absolute path", "Write file:///absolute/folder (three slashes).");
    return { kind: "file", path: path.length > 1 ? path.replace(/\/+$/, "") : path };
  }
  throw new BadRemoteError(`remote URL "${redactUserinfo(url)}"`, "it is neither s3:// nor file://");
}

/** Checks an `--endpoint`: http(s), no credentials in it, no path. */
export function checkEndpoint(endpoint: string): string {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new BadRemoteError(`endpoint "${redactUserinfo(endpoint)}"`, "it is not a URL", "Give one like https://s3.example.com or http://127.0.0.1:9000.");
  }
  if (u.username || u.password)
    throw new BadRemoteError("the endpoint", "it contains credentials", "Give credentials through the environment, never in a URL.");
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new BadRemoteError(`endpoint "${endpoint}"`, "it must start with http:// or https://");
  if (u.search || (u.pathname !== "/" && u.pathname !== ""))
    throw new BadRemoteError(`endpoint "${endpoint}"`, "it must not have a path; the bucket and prefix go in the s3:// URL");
  return `${u.protocol}//${u.host}`;
}

/** Where-and-how settings given on the command line (`--endpoint`, `--region`, credential references). */
export interface LocationFlags {
  endpoint?: string;
  region?: string;
  credentials?: CredentialRefs;
}

/**
 * The location a URL and command-line flags name, checked (URL, endpoint, credential
 * references): what `pond restore URL` and `pond export PATTERN s3://…` open. Settings
 * not given come from `base` (a configured remote, `pond export --remote NAME`).
 */
export function locationFromFlags(url: string, flags: LocationFlags, base?: Omit<RemoteLocation, "url">): RemoteLocation {
  const parsed = parseRemoteUrl(url);
  const endpoint = flags.endpoint === undefined ? base?.endpoint : checkEndpoint(flags.endpoint);
  const credentials = flags.credentials ? checkCredentialRefs(flags.credentials) : base?.credentials;
  const region = flags.region ?? base?.region;
  return {
    url: parsed.kind === "file" ? `file://${parsed.path}` : url.replace(/\/+$/, ""),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

export function checkRemoteName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new BadRemoteError(`remote name "${name}"`, "names are letters, digits, '.', '_' and '-', starting with a letter or digit");
  }
}

const STANDARD_ENV: Record<keyof CredentialRefs, string> = {
  accessKeyId: "AWS_ACCESS_KEY_ID",
  secretAccessKey: "AWS_SECRET_ACCESS_KEY",
  sessionToken: "AWS_SESSION_TOKEN",
};
const OPTION_NAME: Record<keyof CredentialRefs, string> = {
  accessKeyId: "access-key-id",
  secretAccessKey: "secret-access-key",
  sessionToken: "session-token",
};

/**
 * Validates credential settings from the command line: each must be a `${env:NAME}`
 * reference. A literal is refused (SecretOnCommandLineError), and the message does
 * not repeat it.
 */
export function checkCredentialRefs(refs: CredentialRefs): CredentialRefs | undefined {
  const out: CredentialRefs = {};
  for (const field of Object.keys(STANDARD_ENV) as (keyof CredentialRefs)[]) {
    const v = refs[field];
    if (v === undefined) continue;
    if (envRefName(v) === undefined) throw new SecretOnCommandLineError(OPTION_NAME[field], STANDARD_ENV[field]);
    out[field] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

export interface ResolvedCredentials {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/**
 * The remote's credentials from the environment: each field from its `${env:NAME}`
 * reference when the remote has one, else from the standard AWS_* variable. A
 * reference to an unset variable is MissingCredentialsError naming the variable.
 */
export function resolveCredentials(name: string, loc: RemoteLocation, env: Record<string, string | undefined>): ResolvedCredentials {
  const out: ResolvedCredentials = {};
  for (const field of Object.keys(STANDARD_ENV) as (keyof CredentialRefs)[]) {
    const ref = loc.credentials?.[field];
    if (ref !== undefined) {
      const varName = envRefName(ref);
      if (varName === undefined) throw new MissingCredentialsError(name, `its ${OPTION_NAME[field]} setting is not a \${env:NAME} reference`);
      const v = env[varName];
      if (v === undefined || v === "") throw new MissingCredentialsError(name, `its ${OPTION_NAME[field]} refers to \${env:${varName}}, which is not set`);
      out[field] = v;
    } else {
      const v = env[STANDARD_ENV[field]];
      if (v !== undefined && v !== "") out[field] = v;
    }
  }
  if (!out.accessKeyId || !out.secretAccessKey) {
    throw new MissingCredentialsError(name, "neither the remote's settings nor AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY provide an access key and secret");
  }
  return out;
}

/** Every remote of the pond, in the order they were added. */
export function readRemotes(paths: PondPaths): RemoteConfig[] {
  const file = remotesFile(paths);
  const parsed = readJsonControlFile<{ remotes?: RemoteConfig[] }>(
    file,
    "Fix the JSON by hand (it lists each remote's name and url), or remove the file and add the remotes again with `pond remote add NAME URL`.",
    (v) =>
      typeof v === "object" && v !== null && (!("remotes" in v) || Array.isArray((v as { remotes: unknown }).remotes))
        ? undefined
        : 'it must be an object {"remotes": [...]}',
  );
  return parsed?.remotes ?? [];
}

/** Replaces the file atomically (temp + rename), so a crash leaves the old or the new list. */
export function writeRemotes(paths: PondPaths, remotes: RemoteConfig[]): void {
  writeFileDurable(remotesFile(paths), JSON.stringify({ remotes }, null, 2) + "\n");
}

export function findRemote(remotes: RemoteConfig[], name: string): RemoteConfig {
  const r = remotes.find((x) => x.name === name);
  if (!r)
    throw new RemoteNotFoundError(
      name,
      remotes.map((x) => x.name),
    );
  return r;
}

/** Applies `change` to the named remote and saves the list. */
export function updateRemote(paths: PondPaths, name: string, change: (r: RemoteConfig) => void): void {
  const remotes = readRemotes(paths);
  change(findRemote(remotes, name));
  writeRemotes(paths, remotes);
}

function remotesFile(paths: PondPaths): string {
  return `${paths.control}/remotes.json`;
}

/** A URL with any `user:password@` removed, for messages. */
export function redactUserinfo(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}
