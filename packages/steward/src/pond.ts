import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isSystemError, logger, span } from "@pond/diagnostics";
import { LocalObjectStore, latestVersion, readJsonControlFile, writeFileDurable } from "@pond/oplog";
import { TransactionConflictError, uuid7, type TxnMeta } from "@pond/tinyfs";
import { backoffMs, retryPolicyFromEnv, type RetryPolicy } from "./commit-retry.ts";
import {
  TLogPersistence,
  createPondTable,
  fileRowCache,
  fileDirCache,
  fileSeriesSummaryCache,
  fileSeriesHashCache,
  fileSnapshotCache,
  fileVerifiedPayloads,
  VERIFIED_PAYLOADS_DIR,
  type TLogTransaction,
  type TLogView,
} from "@pond/tlogfs";
import { appendControl, foldControl, readControl, readControlTail, type TxnHistory } from "./control-log.ts";
import { BadAsOfError, MirrorReadOnlyError, NoPondError, NotAPondError, PondDirIsFileError, PondExistsError } from "./errors.ts";
import { checkNotExpired, readExpiry } from "./maintenance/expiry.ts";
import { acquireWriteLock, lockTimeoutMs } from "./write-lock.ts";

/** The pond's identity file, `control/pond.json`. */
export interface PondIdentity {
  pondId: string;
  createdAt: string;
  format: 1;
  /** Set on a mirror: the remote it follows; local writes are refused. */
  mirrorOf?: string;
}

export interface PondPaths {
  dir: string;
  data: string;
  control: string;
  identity: string;
  lock: string;
  controlLog: string;
}

export function pondPaths(dir: string): PondPaths {
  const abs = resolve(dir);
  const control = join(abs, "control");
  return {
    dir: abs,
    data: join(abs, "data"),
    control,
    identity: join(control, "pond.json"),
    lock: join(control, "lock"),
    controlLog: join(control, "transactions.jsonl"),
  };
}

/** The pond folder from `--pond`, else `$POND`; neither is a usage error that says how. */
export function resolvePondDir(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const dir = flag ?? env.POND;
  if (!dir) throw new NoPondError();
  return resolve(dir);
}

/** The nearest existing path at or above `dir` when it is not a folder (mkdir would fail ENOTDIR). */
function fileOnTheWay(dir: string): string | undefined {
  for (let p = dir; ; p = dirname(p)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch (e) {
      if (!isSystemError(e, "ENOTDIR")) throw e; // a file further up: keep climbing to it
    }
    if (st) return st.isDirectory() ? undefined : p;
    if (dirname(p) === p) return undefined;
  }
}

/**
 * Who runs this command, for `pond log`: $USER, then $LOGNAME, then the account name of the
 * process's uid, then `uid N`. Bun's `os.userInfo()` reads $USER too and says "unknown"
 * without it (cron, systemd), so the uid is looked up in the passwd file.
 */
export function currentUser(env: Record<string, string | undefined> = process.env, passwd = "/etc/passwd"): string {
  const named = env.USER || env.LOGNAME;
  if (named) return named;
  const uid = process.getuid?.();
  if (uid === undefined) return "unknown";
  return accountName(uid, passwd) ?? `uid ${uid}`;
}

/** The name of `uid` in a passwd file (`name:x:uid:gid:…`), or undefined when it has none. */
export function accountName(uid: number, passwd = "/etc/passwd"): string | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EACCES") return undefined;
    throw e;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(uid) && f[0]) return f[0];
  }
  return undefined;
}

/** What a write callback may report: one human line per change, shown by `pond log`. */
export interface WriteContext {
  txn: TLogTransaction;
  note(change: string): void;
}

/** A point to read the pond at: a data log version, or a time (ms since the epoch). */
export type AsOf = { seq: number } | { timeMs: number };

/** Parses `--as-of`: a whole number is a transaction sequence, anything else an ISO 8601 time. */
/**
 * True for what `--as-of` (and `POST /sql`'s `as_of`) accepts: a transaction sequence (a whole
 * number ≥ 0) or an ISO 8601 date or time. `parseAsOf` alone would also take text `Date.parse`
 * accepts that is not ISO ("-1" is year −1).
 */
export function isAsOfText(v: string): boolean {
  return /^\d+$/.test(v) || /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v);
}

export function parseAsOf(s: string): AsOf {
  if (/^\d+$/.test(s)) return { seq: Number(s) };
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new BadAsOfError(s);
  }
  return { timeMs: t };
}

/**
 * A pond on disk: `data/` (the Delta table tlogfs writes) and `control/` (identity,
 * write lock, transaction records). Opening is cheap: nothing is read until asked.
 */
export class Pond {
  readonly persistence: TLogPersistence;

  private constructor(
    readonly paths: PondPaths,
    readonly identity: PondIdentity,
  ) {
    this.persistence = new TLogPersistence(new LocalObjectStore(paths.data), {
      snapshotCache: fileSnapshotCache(join(paths.control, "snapshot-cache.json"), identity.pondId),
      rowCache: fileRowCache(join(paths.control, "row-cache"), identity.pondId),
      dirCache: fileDirCache(join(paths.control, "dir-cache.json"), identity.pondId),
      seriesSummaries: fileSeriesSummaryCache(join(paths.control, "row-cache"), identity.pondId),
      seriesHashes: fileSeriesHashCache(join(paths.control, "row-cache"), identity.pondId),
      verifiedPayloads: fileVerifiedPayloads(join(paths.control, VERIFIED_PAYLOADS_DIR)),
    });
  }

  get dir(): string {
    return this.paths.dir;
  }

  get id(): string {
    return this.identity.pondId;
  }

  /** Creates a new pond in `dir` (made if missing); refuses a folder that holds one. */
  static async init(dir: string, command: string[]): Promise<Pond> {
    const paths = pondPaths(dir);
    if (existsSync(paths.identity) || existsSync(join(paths.data, "_delta_log"))) throw new PondExistsError(paths.dir);
    const file = fileOnTheWay(paths.dir);
    if (file) throw new PondDirIsFileError(paths.dir, file);
    mkdirSync(paths.data, { recursive: true });
    mkdirSync(paths.control, { recursive: true });
    const identity: PondIdentity = { pondId: uuid7(), createdAt: new Date().toISOString(), format: 1 };
    const meta: TxnMeta = { txnId: uuid7(), command, user: currentUser(), startedAt: Date.now() };
    await createPondTable(new LocalObjectStore(paths.data), identity.pondId, meta);
    writeIdentity(paths, identity);
    appendControl(paths.controlLog, { type: "begin", txnId: meta.txnId, baseSeq: -1, command, user: meta.user, startedAt: meta.startedAt, pid: process.pid });
    appendControl(paths.controlLog, {
      type: "committed",
      txnId: meta.txnId,
      seq: 0,
      endedAt: Date.now(),
      durationMs: Date.now() - meta.startedAt,
      changes: ["created pond " + identity.pondId],
    });
    return new Pond(paths, identity);
  }

  /** Opens an existing pond; a folder that is not one is NotAPondError. */
  static open(dir: string): Pond {
    const paths = pondPaths(dir);
    const identity = readJsonControlFile<PondIdentity>(
      paths.identity,
      `Rewrite it as {"pondId": "<id>", "createdAt": "<ISO time>", "format": 1}; the pond's id is the "id" of the metaData action in ${join(paths.data, "_delta_log", "00000000000000000000.json")}. Or restore the pond from a backup.`,
      (v) =>
        typeof v === "object" && v !== null && typeof (v as PondIdentity).pondId === "string" && (v as PondIdentity).format === 1
          ? undefined
          : "it must hold a pondId and format 1",
    );
    if (!identity) throw new NotAPondError(paths.dir, existsSync(paths.dir) ? "it has no control/pond.json" : "the folder does not exist");
    return new Pond(paths, identity);
  }

  /** A read-only view, newest or as of a sequence or time. */
  async view(asOf?: AsOf): Promise<TLogView> {
    if (asOf === undefined) return this.persistence.view();
    // Expired snapshots are refused even while their files still exist: cleanup may delete them at any moment.
    const expiry = readExpiry(this.paths.control);
    if ("seq" in asOf) {
      checkNotExpired(expiry, asOf.seq);
      return this.persistence.view(asOf.seq);
    }
    const view = await this.persistence.viewAt(asOf.timeMs);
    checkNotExpired(expiry, view.seq);
    return view;
  }

  /** The newest committed data log version. */
  async seq(): Promise<number> {
    return (await latestVersion(this.persistence.store)) ?? -1;
  }

  /**
   * Runs one write transaction: takes the write lock, records begin, runs `fn` on a
   * fresh transaction, commits, records committed (or failed). This is the one place a
   * commit conflict is retried: another writer took the next log version first (the
   * lock keeps pond's own writers apart; any other Delta writer, or a lock on a file
   * system that does not honour it, can still race), so `fn` reruns on the new state
   * after a backoff with full jitter, up to `retry.attempts` attempts in all (see
   * commit-retry.ts). Payload files are content-addressed, so a rerun finds them stored
   * and never rewrites one. The error after the last attempt says how many there were.
   * `locked` runs once the lock is held, before the transaction opens: work that needs no
   * pond state but must not run unlocked (files in the pond's folders that `pond recover`
   * would take for a killed writer's) can start there and overlap the opening.
   */
  async write<T>(
    command: string[],
    fn: (ctx: WriteContext) => Promise<T>,
    retry: RetryPolicy = retryPolicyFromEnv(),
    hooks: { locked?: () => void } = {},
  ): Promise<{ result: T; seq: number; attempts: number }> {
    const done = await this.writeLocked(command, fn, retry, hooks);
    // Automatic maintenance (maintenance/auto.ts) after a write that appended to a series:
    // once the lock is released, and never failing the write, which stands committed.
    const maintaining = span("write_auto_maintained");
    if (done.appended.length > 0) await (await import("./maintenance/auto.ts")).autoMaintain(this, done.appended);
    maintaining.end();
    return { result: done.result, seq: done.seq, attempts: done.attempts };
  }

  private async writeLocked<T>(
    command: string[],
    fn: (ctx: WriteContext) => Promise<T>,
    retry: RetryPolicy,
    hooks: { locked?: () => void },
  ): Promise<{ result: T; seq: number; attempts: number; appended: { parentId: string; nodeId: string }[] }> {
    if (this.identity.mirrorOf) throw new MirrorReadOnlyError(this.dir, this.identity.mirrorOf);
    const lock = await acquireWriteLock(this.paths.lock, this.dir, lockTimeoutMs(), command.join(" "));
    const meta: TxnMeta = { txnId: uuid7(), command, user: currentUser(), startedAt: Date.now() };
    let done: { result: T; seq: number; attempts: number; appended: { parentId: string; nodeId: string }[] };
    try {
      hooks.locked?.();
      // The first transaction's snapshot is the base: no second listing of the log for it.
      let txn = await this.persistence.begin(meta);
      appendControl(this.paths.controlLog, {
        type: "begin",
        txnId: meta.txnId,
        baseSeq: txn.seq,
        command,
        user: meta.user,
        startedAt: meta.startedAt,
        pid: process.pid,
      });
      try {
        for (let attempt = 1; ; attempt++) {
          if (attempt > 1) txn = await this.persistence.begin(meta);
          const changes: string[] = [];
          const result = await fn({ txn, note: (c) => changes.push(c) });
          const committing = span("write_committed");
          const r = await txn.tryCommit();
          committing.end();
          if (r.kind === "committed") {
            appendControl(this.paths.controlLog, {
              type: "committed",
              txnId: meta.txnId,
              seq: r.seq,
              endedAt: Date.now(),
              durationMs: Date.now() - meta.startedAt,
              changes,
            });
            done = { result, seq: r.seq, attempts: attempt, appended: txn.appendedSeries };
            break;
          }
          if (attempt >= retry.attempts) throw new TransactionConflictError(txn.seq, r.version, attempt);
          const wait = backoffMs(attempt, retry);
          logger.info("commit conflict, retrying", { attempt, version: r.version, backoffMs: wait });
          await Bun.sleep(wait);
        }
      } catch (e) {
        const err = e as Error & { code?: string };
        appendControl(this.paths.controlLog, {
          type: "failed",
          txnId: meta.txnId,
          endedAt: Date.now(),
          durationMs: Date.now() - meta.startedAt,
          error: err.message,
          code: err.code ?? "error",
        });
        throw e;
      }
      // Remotes in `push` mode get the new commit now, still under the lock so pushes
      // stay in commit order. autoPush never throws: the commit stands, a failed push
      // is reported on stderr and caught up by the next `pond push`. Loaded lazily: a
      // pond without remotes.json never pays for it.
      if (existsSync(join(this.paths.control, "remotes.json"))) await (await import("./push.ts")).autoPush(this, done.seq);
      return done;
    } finally {
      lock.release();
    }
  }

  /** Runs `fn` holding the write lock, without a transaction (recover, pull). */
  async withLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const lock = await acquireWriteLock(this.paths.lock, this.dir, lockTimeoutMs(), what);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  /**
   * Every write transaction the control log knows, oldest first; with `last`, at least the
   * newest `last` of them (fewer archives read: see readControlTail).
   */
  history(last?: number): TxnHistory[] {
    return foldControl(last === undefined ? readControl(this.paths.controlLog) : readControlTail(this.paths.controlLog, last));
  }

  setIdentity(identity: PondIdentity): void {
    writeIdentity(this.paths, identity);
    (this as { identity: PondIdentity }).identity = identity;
  }
}

/** Replaced atomically and durably: every command reads this file first, so a torn one would stop them all. */
function writeIdentity(paths: PondPaths, identity: PondIdentity): void {
  writeFileDurable(paths.identity, JSON.stringify(identity, null, 2) + "\n");
}
