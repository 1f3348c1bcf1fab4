import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PondError } from "@pond/diagnostics";
import { NotFoundError, WD } from "@pond/tinyfs";
import { AdoptableFile, checkSeriesAppend, seriesSchemaOf } from "@pond/tlogfs";
import { emptySummary, isoFromMicros, type CollectContext, type CollectSummary } from "./collect-run.ts";
import { CollectRunError, InboxMissingError } from "./errors.ts";
import { convertImport, type ImportRecipe } from "./import-file.ts";
import type { InboxConfig } from "./inbox-config.ts";

/**
 * `kind: inbox`: every new host file in `from` that matches `pattern` becomes one version
 * of the series `destination`, through the same import as `pond copy --profile/--sql`.
 *
 * A file is known by the sha256 of its bytes, recorded on the version it became
 * (`source_sha256`, the attribute `pond copy` records too) or, for a file that could not
 * be read and was skipped (`on_error: skip`), in the skip record beside the series
 * (`skippedRecordPath`). A renamed or re-copied file therefore has a known hash and is
 * not imported again; a changed file has a new one and is. All files of a run land in
 * one transaction, in name order; host files are only read.
 */

/** One host file of the inbox, hashed. */
interface InboxFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** One line of the skip record (JSON Lines). */
export interface SkippedFile {
  sha256: string;
  file: string;
  size: number;
  error: string;
  at: string;
}

/** The pond file:data that lists the files an inbox skipped: `/dir/.name.series.skipped`, hidden beside the series. */
export function skippedRecordPath(destination: string): string {
  const d = destination.replace(/\/+$/, "");
  const at = d.lastIndexOf("/");
  return `${d.slice(0, at) || ""}/.${d.slice(at + 1)}.skipped`;
}

export async function runInbox(cfg: InboxConfig, ctx: CollectContext): Promise<CollectSummary> {
  const summary = emptySummary(cfg.file, "inbox");
  const files = { imported: 0, skipped: 0, known: 0 };
  summary.files = files;
  const dest = cfg.destination.replace(/\/+$/, "");
  const recordPath = skippedRecordPath(dest);
  const candidates = listInbox(cfg);
  const known = await knownHashes(new WD(await ctx.pond.view()), dest, recordPath);
  const fresh: InboxFile[] = [];
  for (const c of candidates) {
    const f = await hashFile(c);
    if (known.has(f.sha256)) files.known++;
    else {
      known.add(f.sha256); // a second copy in the same run is the same file
      fresh.push(f);
    }
  }
  if (ctx.dryRun) {
    summary.plan = [...fresh.map((f) => `${f.path} (${f.size} bytes) → ${dest}`), `${fresh.length} new files; ${files.known} already imported or skipped`];
    return summary;
  }
  if (fresh.length === 0) return summary;

  const recipe: ImportRecipe = { profile: cfg.profile, sql: cfg.sql, timezone: cfg.timezone };
  const staging = join(ctx.pond.paths.data, "_large_files");
  mkdirSync(staging, { recursive: true });
  ctx.progress.total(
    fresh.length,
    fresh.reduce((a, f) => a + f.size, 0),
  );
  let lo: bigint | null = null,
    hi: bigint | null = null;
  const knownBefore = files.known;
  const { seq } = await ctx.pond.write(ctx.command, async ({ txn, note }) => {
    const wd = new WD(txn);
    // The transaction may run this again (a conflicting writer): count from the start each time.
    Object.assign(files, { imported: 0, skipped: 0, known: knownBefore });
    summary.notes = [];
    summary.rowsAdded = 0;
    summary.versionsAdded = 0;
    lo = hi = null;
    // Read again inside the transaction: another run may have landed since the listing.
    const knownNow = await knownHashes(wd, dest, recordPath);
    const skipped: SkippedFile[] = [];
    for (const f of fresh) {
      if (knownNow.has(f.sha256)) {
        files.known++;
        continue;
      }
      // `.tmp-` names are skipped by replication and removed by `pond recover`.
      const out = join(staging, `.tmp-inbox-${crypto.randomUUID()}.parquet`);
      try {
        let prepared: Awaited<ReturnType<typeof convertImport>>;
        try {
          prepared = await convertImport(f.path, f.path, { ...recipe, timestampColumn: await seriesTimeColumn(wd, dest) }, out, true);
          const current = await wd.resolve(dest, { followSymlinks: true });
          if (current?.entryType === "file:series") checkSeriesAppend(dest, seriesSchemaOf((await wd.stat(dest)).versions ?? []), prepared, `"${f.path}"`);
        } catch (e) {
          if (!(e instanceof PondError)) throw e;
          if (cfg.on_error !== "skip")
            throw new CollectRunError(
              cfg.file,
              `file "${f.path}"`,
              e.message,
              "No file of this run was imported; the next run tries them all again. Fix or remove that file, or set on_error: skip to record such files as skipped and import the rest.",
            );
          skipped.push({ sha256: f.sha256, file: f.path, size: f.size, error: e.message, at: new Date().toISOString() });
          summary.notes.push(`skipped "${f.path}": ${e.message}`);
          files.skipped++;
          continue;
        }
        if (changedSince(f)) {
          // A file still being written is left for the next run, when it is whole.
          summary.notes.push(`"${f.path}" changed while it was read; the next run imports it`);
          continue;
        }
        const r = await wd.createFile(dest, "file:series", new AdoptableFile(out), {
          parents: true,
          attributes: {
            rows: prepared.rows,
            columns: prepared.columns,
            timestamp_column: prepared.timestampColumn,
            source_sha256: f.sha256,
            source_name: f.name,
          },
          minEventTime: prepared.minEventTime ?? null,
          maxEventTime: prepared.maxEventTime ?? null,
        });
        note(`imported ${f.path} into ${r.resolved.path} (v${r.version.version}, ${prepared.rows} rows)`);
        files.imported++;
        summary.versionsAdded++;
        summary.rowsAdded += prepared.rows;
        if (prepared.minEventTime != null && (lo === null || prepared.minEventTime < lo)) lo = prepared.minEventTime;
        if (prepared.maxEventTime != null && (hi === null || prepared.maxEventTime > hi)) hi = prepared.maxEventTime;
      } finally {
        rmSync(out, { force: true });
        ctx.progress.tick(1, f.size);
      }
    }
    if (skipped.length > 0) {
      const before = (await wd.resolve(recordPath)) ? new TextDecoder().decode(await wd.readAll(recordPath)) : "";
      const text = before + skipped.map((s) => JSON.stringify(s) + "\n").join("");
      await wd.createFile(recordPath, "file:data", new TextEncoder().encode(text), { parents: true });
      note(`recorded ${skipped.length} skipped files in ${recordPath}`);
    }
  });
  if (summary.versionsAdded > 0 || files.skipped > 0) summary.seq = seq;
  if (lo !== null) summary.start = isoFromMicros(lo);
  if (hi !== null) summary.end = isoFromMicros(hi);
  return summary;
}

/** The files of the inbox folder that match the pattern (names only, not subfolders), in name order. */
function listInbox(cfg: InboxConfig): Omit<InboxFile, "sha256">[] {
  const glob = new Bun.Glob(cfg.pattern ?? "*");
  let names: string[];
  try {
    names = readdirSync(cfg.from);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new InboxMissingError(cfg.file, cfg.from);
    }
    throw e;
  }
  const out: Omit<InboxFile, "sha256">[] = [];
  for (const name of names.sort()) {
    if (name.startsWith(".") || !glob.match(name)) continue;
    const path = join(cfg.from, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    out.push({ name, path, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
  }
  return out;
}

async function hashFile(f: Omit<InboxFile, "sha256">): Promise<InboxFile> {
  const h = new Bun.CryptoHasher("sha256");
  const fd = openSync(f.path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { ...f, sha256: h.digest("hex") };
}

function changedSince(f: InboxFile): boolean {
  const st = statSync(f.path, { throwIfNoEntry: false });
  return !st || st.size !== f.size || st.mtimeMs !== f.mtimeMs || st.ino !== f.ino;
}

/** Hashes of host files the series already holds (its versions' source_sha256) or the skip record lists. */
async function knownHashes(wd: WD, dest: string, recordPath: string): Promise<Set<string>> {
  const known = new Set<string>();
  try {
    for (const v of (await wd.stat(dest)).versions ?? []) if (typeof v.attributes.source_sha256 === "string") known.add(v.attributes.source_sha256);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  if (await wd.resolve(recordPath)) {
    for (const line of new TextDecoder().decode(await wd.readAll(recordPath)).split("\n")) {
      if (line.trim() === "") continue;
      const sha = (JSON.parse(line) as Partial<SkippedFile>).sha256;
      if (typeof sha === "string") known.add(sha);
    }
  }
  return known;
}

/** The series' own event-time column, so every file of an inbox is read with the one it already has. */
async function seriesTimeColumn(wd: WD, dest: string): Promise<string | undefined> {
  const current = await wd.resolve(dest, { followSymlinks: true });
  if (current?.entryType !== "file:series") return undefined;
  return seriesSchemaOf((await wd.stat(dest)).versions ?? []).timestampColumn;
}
