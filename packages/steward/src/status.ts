/**
 * `pond status`: the pond's id, its newest transaction, and each remote with how far
 * it is behind. Offline: "behind" is counted from what this pond last pushed, so
 * status never waits on a network; `pond verify NAME` asks the remote itself.
 */
import type { Pond } from "./pond.ts";
import { readRemotes, type RemoteMode } from "./remote-config.ts";

export interface RemoteStatus {
  name: string;
  url: string;
  endpoint?: string;
  mode: RemoteMode;
  lastPushed?: { version: number; at: string };
  lastPulled?: { version: number; at: string };
  /** Versions of this pond not yet pushed to it (null for the remote a mirror pulls from: only the remote knows). */
  behind: number | null;
}

export interface PondStatus {
  pondId: string;
  dir: string;
  createdAt: string;
  mirrorOf?: string;
  /** The newest data log version. */
  version: number;
  lastTransaction?: { seq?: number; status: string; command: string[]; startedAt: string; user: string };
  remotes: RemoteStatus[];
}

export async function pondStatus(pond: Pond): Promise<PondStatus> {
  const version = await pond.seq();
  const history = pond.history();
  const last = history[history.length - 1];
  return {
    pondId: pond.id,
    dir: pond.dir,
    createdAt: pond.identity.createdAt,
    ...(pond.identity.mirrorOf ? { mirrorOf: pond.identity.mirrorOf } : {}),
    version,
    ...(last
      ? { lastTransaction: { seq: last.seq, status: last.status, command: last.command, startedAt: new Date(last.startedAt).toISOString(), user: last.user } }
      : {}),
    remotes: readRemotes(pond.paths).map((r) => ({
      name: r.name,
      url: r.url,
      ...(r.endpoint ? { endpoint: r.endpoint } : {}),
      mode: r.mode,
      ...(r.lastPushed ? { lastPushed: r.lastPushed } : {}),
      ...(r.lastPulled ? { lastPulled: r.lastPulled } : {}),
      behind: r.mode === "pull" ? null : version - (r.lastPushed?.version ?? -1),
    })),
  };
}
