/**
 * `pond remote add|list|remove`: recording a pond's remotes. Adding one does not
 * contact it (it works offline); push, pull and verify do.
 *
 * A remote added with mode `pull` makes the pond a read-only mirror of it (its
 * identity records `mirrorOf`), as `pond restore` does by default; removing that
 * remote makes the pond writable again.
 */
import { BadRemoteError, RemoteExistsError } from "./errors.ts";
import type { Pond } from "./pond.ts";
import {
  checkCredentialRefs,
  checkEndpoint,
  checkRemoteName,
  findRemote,
  parseRemoteUrl,
  readRemotes,
  REMOTE_MODES,
  writeRemotes,
  type CredentialRefs,
  type RemoteConfig,
  type RemoteMode,
} from "./remote-config.ts";

export interface AddRemoteInput {
  name: string;
  url: string;
  endpoint?: string;
  region?: string;
  mode?: string;
  /** Each a `${env:NAME}` reference; a literal is refused. */
  credentials?: CredentialRefs;
}

/** Validates and records a remote. Takes the write lock (the remotes file is shared with push). */
export async function addRemote(pond: Pond, input: AddRemoteInput): Promise<RemoteConfig> {
  checkRemoteName(input.name);
  const parsed = parseRemoteUrl(input.url);
  const credentials = input.credentials ? checkCredentialRefs(input.credentials) : undefined;
  const mode = (input.mode ?? "manual") as RemoteMode;
  if (!REMOTE_MODES.includes(mode))
    throw new BadRemoteError(
      `--mode ${input.mode}`,
      `modes are ${REMOTE_MODES.join(", ")}`,
      "Use --mode push to push after every write, --mode pull to follow the remote as a mirror.",
    );
  if (parsed.kind === "file" && (input.endpoint || input.region || credentials)) {
    throw new BadRemoteError(`remote URL "${input.url}"`, "--endpoint, --region and credentials apply to s3:// remotes only");
  }
  const cfg: RemoteConfig = {
    name: input.name,
    url: parsed.kind === "file" ? `file://${parsed.path}` : input.url.replace(/\/+$/, ""),
    ...(input.endpoint !== undefined ? { endpoint: checkEndpoint(input.endpoint) } : {}),
    ...(input.region !== undefined ? { region: input.region } : {}),
    mode,
    ...(credentials ? { credentials } : {}),
  };
  return pond.withLock(`pond remote add ${input.name}`, async () => {
    const remotes = readRemotes(pond.paths);
    const same = remotes.find((r) => r.name === cfg.name);
    if (same) throw new RemoteExistsError(same.name, same.url);
    if (mode === "pull") {
      const other = remotes.find((r) => r.mode === "pull");
      if (other)
        throw new BadRemoteError(
          `--mode pull for "${cfg.name}"`,
          `this pond already follows remote "${other.name}"`,
          `A mirror follows one remote; remove it first with \`pond remote remove ${other.name}\`.`,
        );
    }
    writeRemotes(pond.paths, [...remotes, cfg]);
    if (mode === "pull") pond.setIdentity({ ...pond.identity, mirrorOf: cfg.name });
    return cfg;
  });
}

/** Forgets a remote (its objects stay where they are). Removing the remote a mirror follows makes the pond writable. */
export async function removeRemote(pond: Pond, name: string): Promise<{ removed: RemoteConfig; wasMirror: boolean }> {
  return pond.withLock(`pond remote remove ${name}`, async () => {
    const remotes = readRemotes(pond.paths);
    const removed = findRemote(remotes, name);
    writeRemotes(
      pond.paths,
      remotes.filter((r) => r !== removed),
    );
    const wasMirror = pond.identity.mirrorOf === name;
    if (wasMirror) {
      const { mirrorOf: _, ...rest } = pond.identity;
      pond.setIdentity(rest);
    }
    return { removed, wasMirror };
  });
}

export function listRemotes(pond: Pond): RemoteConfig[] {
  return readRemotes(pond.paths);
}
