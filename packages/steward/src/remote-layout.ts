/**
 * What a remote holds besides the copy of `data/`, all under `_pond/` (a name Delta
 * readers ignore, and outside the table's file namespace):
 *
 * - `_pond/identity.json`: the pond id. Written first, with put-if-absent, so a remote
 *   is claimed by one pond before anything else lands in it.
 * - `_pond/manifests/<tip>-<uuid>.jsonl`: one per push that uploaded objects, one line
 *   `{key, size, sha256}` per object it uploaded (payloads, commits, checkpoints).
 *   Written after the payloads and before the commits. Large files are named by their
 *   hash; the manifests give every other object one, so `verify --deep`, `pull` and
 *   `restore` can check every byte. `<tip>` is the local version pushed; a pull after
 *   version N only needs manifests with a tip above N.
 * - `_pond/control/<offset>-<uuid>.jsonl`: the pond's control log (what `pond log`
 *   shows: commands, change notes, failed transactions), uploaded in append-only
 *   segments: logical bytes [offset, end) of the local history (its archives, then
 *   `control/transactions.jsonl`: control-archive.ts). Each push sends only what is new,
 *   so its cost does not grow with the history; a reader concatenates the segments by
 *   offset and drops repeated lines.
 */
import type { ObjectMeta, ObjectStore } from "@pond/oplog";
import { ObjectNotFoundError, mapLimit } from "@pond/oplog";
import { uuid7 } from "@pond/tinyfs";
import { ControlHistory } from "./control-archive.ts";
import type { ControlRecord } from "./control-log.ts";
import { NotAPondRemoteError, RemoteOwnedByOtherPondError } from "./errors.ts";
import type { PondIdentity } from "./pond.ts";

export const REMOTE_META_PREFIX = "_pond/";
export const IDENTITY_KEY = "_pond/identity.json";
export const MANIFEST_PREFIX = "_pond/manifests/";
export const CONTROL_PREFIX = "_pond/control/";

export interface RemoteIdentity {
  pondId: string;
  createdAt: string;
  format: 1;
}

/** The remote's identity, or null when it has none (an empty or foreign location). */
export async function readRemoteIdentity(store: ObjectStore): Promise<RemoteIdentity | null> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(IDENTITY_KEY);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) return null;
    throw e;
  }
  let parsed: Partial<RemoteIdentity>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<RemoteIdentity>;
  } catch (e) {
    if (e instanceof SyntaxError) throw new NotAPondRemoteError(store.url, `${IDENTITY_KEY} is not JSON`);
    throw e;
  }
  if (typeof parsed.pondId !== "string") throw new NotAPondRemoteError(store.url, `${IDENTITY_KEY} has no pondId`);
  return { pondId: parsed.pondId, createdAt: String(parsed.createdAt ?? ""), format: 1 };
}

/** The remote's identity; NotAPondRemoteError when there is none. */
export async function requireRemoteIdentity(store: ObjectStore): Promise<RemoteIdentity> {
  const id = await readRemoteIdentity(store);
  if (!id) throw new NotAPondRemoteError(store.url, `it has no ${IDENTITY_KEY}`);
  return id;
}

/** Throws RemoteOwnedByOtherPondError (with both ids) unless the remote holds `localId`. */
export function checkSamePond(url: string, remote: RemoteIdentity, localId: string, what: string): void {
  if (remote.pondId !== localId) throw new RemoteOwnedByOtherPondError(url, remote.pondId, localId, what);
}

/**
 * Makes the remote this pond's: writes its identity if there is none (put-if-absent,
 * so of two ponds claiming one empty remote exactly one wins), else checks it. A
 * remote that already holds a Delta log but no identity is not claimed.
 */
export async function claimRemote(store: ObjectStore, identity: PondIdentity, remoteHasLog: boolean): Promise<void> {
  const existing = await readRemoteIdentity(store);
  if (existing) return checkSamePond(store.url, existing, identity.pondId, "push to");
  if (remoteHasLog) throw new NotAPondRemoteError(store.url, `it holds a Delta log but no ${IDENTITY_KEY}, so it belongs to something else`);
  const body: RemoteIdentity = { pondId: identity.pondId, createdAt: identity.createdAt, format: 1 };
  if ((await store.put(IDENTITY_KEY, new TextEncoder().encode(JSON.stringify(body, null, 2) + "\n"), { ifAbsent: true })) === "exists") {
    checkSamePond(store.url, await requireRemoteIdentity(store), identity.pondId, "push to");
  }
}

// ---------------------------------------------------------------------------
// Manifests

export interface ManifestEntry {
  key: string;
  size: number;
  sha256: string;
}

export async function writeManifest(store: ObjectStore, tip: number, entries: ManifestEntry[]): Promise<void> {
  const key = `${MANIFEST_PREFIX}${pad(tip)}-${uuid7()}.jsonl`;
  const text = entries.map((e) => JSON.stringify({ key: e.key, size: e.size, sha256: e.sha256 })).join("\n") + "\n";
  await store.put(key, new TextEncoder().encode(text));
}

/**
 * What the manifests (among `listing`) with a tip above `afterTip` say each object
 * must be. Two manifests that disagree about one key are reported as `conflicts`.
 */
export async function readManifests(
  store: ObjectStore,
  listing: readonly ObjectMeta[],
  afterTip = -1,
): Promise<{ expected: Map<string, ManifestEntry>; conflicts: string[] }> {
  const keys = listing.filter((m) => {
    const tip = parseTipPrefixed(m.key, MANIFEST_PREFIX);
    return tip !== null && tip > afterTip;
  });
  const texts = await mapLimit(keys, 16, async (m) => new TextDecoder().decode(await store.get(m.key)));
  const expected = new Map<string, ManifestEntry>();
  const conflicts: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    for (const line of texts[i]!.split("\n")) {
      if (!line) continue;
      let e: ManifestEntry;
      try {
        e = JSON.parse(line) as ManifestEntry;
      } catch (err) {
        if (err instanceof SyntaxError) throw new NotAPondRemoteError(store.url, `manifest ${keys[i]!.key} has a line that is not JSON`);
        throw err;
      }
      const prev = expected.get(e.key);
      if (prev && (prev.sha256 !== e.sha256 || prev.size !== e.size)) conflicts.push(e.key);
      else expected.set(e.key, e);
    }
  }
  return { expected, conflicts };
}

// ---------------------------------------------------------------------------
// Control log segments

interface Segment {
  key: string;
  from: number;
  size: number;
}

function segmentsOf(listing: readonly ObjectMeta[]): Segment[] {
  const out: Segment[] = [];
  for (const m of listing) {
    const from = parseTipPrefixed(m.key, CONTROL_PREFIX);
    if (from !== null) out.push({ key: m.key, from, size: m.size });
  }
  return out.sort((a, b) => a.from - b.from || (a.key < b.key ? -1 : 1));
}

/**
 * Uploads the part of the local control log's history the remote lacks. Segments are
 * addressed by logical offset (control-archive.ts): the remote's end is compared with the
 * history's end, and what it lacks comes from the archives (decompressed) and the live
 * file, one segment per archive it reaches into and one for the live file, so memory stays
 * one archive's worth. Returns the bytes sent. If the history does not continue the
 * remote's at a line boundary (it was replaced), the whole history is sent; readers drop
 * repeats.
 */
export async function pushControlLog(store: ObjectStore, listing: readonly ObjectMeta[], controlLogPath: string): Promise<number> {
  using h = ControlHistory.open(controlLogPath);
  const remoteEnd = segmentsOf(listing).reduce((m, s) => Math.max(m, s.from + s.size), 0);
  const from = h.end < remoteEnd || !h.isLineStart(remoteEnd) ? 0 : remoteEnd;
  let at = from;
  let sent = 0;
  for (const part of h.bytesFrom(from)) {
    // Only whole lines: a torn last line (a crash mid-append) is not history.
    const end = part.lastIndexOf(0x0a) + 1;
    if (end === 0) break;
    await store.put(`${CONTROL_PREFIX}${pad(at)}-${uuid7()}.jsonl`, part.subarray(0, end));
    at += end;
    sent += end;
  }
  return sent;
}

/** The remote's control records: segments in offset order, repeated lines dropped. */
export async function readRemoteControl(store: ObjectStore, listing: readonly ObjectMeta[]): Promise<ControlRecord[]> {
  const segs = segmentsOf(listing);
  const texts = await mapLimit(segs, 16, async (s) => new TextDecoder().decode(await store.get(s.key)));
  const seen = new Set<string>();
  const out: ControlRecord[] = [];
  for (const text of texts) {
    for (const line of text.split("\n")) {
      // A base header is no record: a pond's own push never sends one, but an older pond binary
      // pushing a rotated log sends the live file whole, header included.
      if (!line || seen.has(line) || line.startsWith('{"type":"base"')) continue;
      seen.add(line);
      try {
        out.push(JSON.parse(line) as ControlRecord);
      } catch (e) {
        if (e instanceof SyntaxError) continue; // a damaged line of history is skipped, the data log is the record of truth
        throw e;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

function parseTipPrefixed(key: string, prefix: string): number | null {
  if (!key.startsWith(prefix)) return null;
  const m = /^(\d{20})-[0-9a-f-]+\.jsonl$/.exec(key.slice(prefix.length));
  return m ? Number(m[1]) : null;
}

export function pad(n: number): string {
  return String(n).padStart(20, "0");
}
