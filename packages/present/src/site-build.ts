/**
 * `pond site build host:///out`: a static site of the pond's series (see README, Site).
 *
 *   out/index.html                 every series: time range, rows, last update, columns
 *   out/series/<slug>.html         one page per series, one chart per column
 *   out/data/<slug>/<level>-<i>.js the data, in chunks, per level of detail (site-data.ts)
 *   out/assets/                    uPlot and the page script (site-assets.ts)
 *   out/.pond-site.json            marks the folder as a site pond wrote
 *
 * Everything is written to a staging folder beside `out`, then renamed into place: a
 * reader sees the old site or the new one, never half of one (between the two renames
 * `out` is briefly missing; Linux has no portable exchange of two folders). A folder that
 * exists and is neither empty nor a site pond built is refused, so nothing of the user's
 * is ever replaced.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename as hostBasename, dirname, join } from "node:path";
import { type Progress, silentProgress } from "@pond/diagnostics";
import { fsyncDirSync } from "@pond/oplog";
import type { AsOf, Pond } from "@pond/steward";
import { compileGlob, isGlob, WD } from "@pond/tinyfs";
import { QuerySession } from "@pond/tlogfs";
import { SITE_ASSETS } from "./site-assets.ts";
import { parseSiteConfig, SITE_CONFIG_PATH, type SiteConfig } from "./site-config.ts";
import { SiteConfigError, SiteInputError } from "./errors.ts";
import { MAX_POINTS } from "./site-data.ts";
import { indexHtml, seriesHtml } from "./site-html.ts";
import { levelsIn, readReduceConfigs, reductionFolder } from "./site-reductions.ts";
import { buildSeriesPage, type SeriesChoice, type SeriesPage, slugFor } from "./site-series.ts";

const MARKER = ".pond-site.json";

export interface SiteBuildOptions {
  asOf?: AsOf;
  /** The build time printed on the index page (tests pass a fixed one). */
  now?: Date;
  /** Told the number of series, then ticked once a series (with the bytes written for it). */
  progress?: Progress;
}

export interface SiteReport {
  dest: string;
  title: string;
  series: {
    path: string;
    page: string;
    rows: number;
    levels: { id: string; resolutionMs: number; chunks: number; rows: number; bytes: number }[];
    /** The level the page opens with (the whole time range), and its data's size. */
    defaultLevel: string;
    defaultBytes: number;
    warnings: string[];
  }[];
  files: number;
  bytes: number;
}

/** Builds the site of `pond` into the host folder `dest` (see the module comment). */
export async function buildSite(pond: Pond, dest: string, opts: SiteBuildOptions = {}): Promise<SiteReport> {
  checkDest(dest);
  const view = await pond.view(opts.asOf);
  const wd = new WD(view);
  const cfg = await readSiteConfig(wd);
  const choices = await chooseSeries(wd, cfg);
  const title = cfg.title ?? "Pond";
  mkdirSync(dirname(dest), { recursive: true });
  const staging = join(dirname(dest), `.${hostBasename(dest)}.pond-site-tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(staging);
  let files = 0;
  let bytes = 0;
  const write = (rel: string, text: string) => {
    const p = join(staging, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    files++;
    bytes += Buffer.byteLength(text);
  };
  const session = await QuerySession.open();
  try {
    const pages: SeriesPage[] = [];
    const taken = new Set<string>();
    const progress = opts.progress ?? silentProgress;
    progress.total(choices.length, undefined);
    for (const c of choices) {
      const before = bytes;
      pages.push(await buildSeriesPage(session, view, wd, c, slugFor(c.path, taken), write));
      progress.tick(1, bytes - before);
    }
    progress.done();
    for (const [rel, text] of Object.entries(SITE_ASSETS)) write(rel, text);
    for (const p of pages) write(`series/${p.slug}.html`, seriesHtml(title, p));
    write("index.html", indexHtml(title, pages, cfg.groups, opts.now ?? new Date()));
    write(MARKER, JSON.stringify({ format: 1, series: pages.map((p) => p.path) }, null, 2) + "\n");
    publish(staging, dest);
    return {
      dest,
      title,
      series: pages.map((p) => {
        const def = defaultLevel(p);
        return {
          path: p.path,
          page: `series/${p.slug}.html`,
          rows: p.rows,
          levels: p.levels.map((l) => ({
            id: l.id,
            resolutionMs: l.resolutionMs,
            chunks: l.chunks.length,
            rows: l.chunks.reduce((n, c) => n + c.rows, 0),
            bytes: l.chunks.reduce((n, c) => n + c.bytes, 0),
          })),
          defaultLevel: def?.id ?? "raw",
          defaultBytes: def ? def.chunks.reduce((n, c) => n + c.bytes, 0) : 0,
          warnings: p.warnings,
        };
      }),
      files,
      bytes,
    };
  } finally {
    session.close();
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The level a page opens with: the finest whose rows over the whole range are at most MAX_POINTS (else the coarsest). */
export function defaultLevel(p: SeriesPage): SeriesPage["levels"][number] | undefined {
  const rows = (l: SeriesPage["levels"][number]) => l.chunks.reduce((n, c) => n + c.rows, 0);
  return p.levels.find((l) => rows(l) <= MAX_POINTS) ?? p.levels[p.levels.length - 1];
}

function checkDest(dest: string): void {
  if (!existsSync(dest)) return;
  if (!statSync(dest).isDirectory()) {
    throw new SiteInputError(
      "site_dest_not_folder",
      `"${dest}" is a file, not a folder for the site`,
      "Name a new or empty folder, or a site pond built before.",
      {
        dest,
      },
    );
  }
  if (readdirSync(dest).length > 0 && !existsSync(join(dest, MARKER))) {
    throw new SiteInputError(
      "site_dest_not_site",
      `"${dest}" is not empty and is not a site pond built (no ${MARKER} in it); pond replaces only its own sites`,
      "Name a new or empty folder, or remove this one first.",
      { dest },
    );
  }
}

function publish(staging: string, dest: string): void {
  let old: string | undefined;
  if (existsSync(dest)) {
    old = `${staging}-old`;
    renameSync(dest, old);
  }
  try {
    renameSync(staging, dest);
  } catch (e) {
    // Put the previous site back: a failed build leaves what was there.
    if (old) renameSync(old, dest);
    throw e;
  }
  fsyncDirSync(dirname(dest));
  if (old) rmSync(old, { recursive: true, force: true });
}

/** /etc/site.yaml, checked on use (a version copied in before validation existed, or by an older pond). */
async function readSiteConfig(wd: WD): Promise<SiteConfig> {
  const st = await wd.resolve(SITE_CONFIG_PATH, { followSymlinks: true });
  if (!st) return { file: SITE_CONFIG_PATH, units: {}, groups: [] };
  if (st.entryType !== "file:data") throw new SiteConfigError(SITE_CONFIG_PATH, undefined, `is a ${st.entryType}; it must be a YAML file (copy it with host:)`);
  return parseSiteConfig(new TextDecoder().decode(await wd.readAll(SITE_CONFIG_PATH)), SITE_CONFIG_PATH);
}

/** The series the site shows, with their reductions, in the config's order (default: every series by path). */
async function chooseSeries(wd: WD, cfg: SiteConfig): Promise<SeriesChoice[]> {
  const reduces = await readReduceConfigs(wd);
  const outs = reduces.map((r) => r.out);
  const under = (path: string, folder: string) => folder === "/" || path === folder || path.startsWith(folder + "/");
  const reductionsOf = async (path: string, explicit?: string) => {
    if (explicit) return levelsIn(wd, explicit);
    for (const r of reduces) {
      if (!compileGlob(r.in).match(path)) continue;
      const levels = await levelsIn(wd, reductionFolder(r.out, path));
      if (levels.length) return levels;
    }
    return [];
  };
  const out: SeriesChoice[] = [];
  if (!cfg.series) {
    for await (const e of wd.walk("/")) {
      if (e.entry.entryType !== "file:series" || under(e.path, "/etc") || outs.some((o) => under(e.path, o))) continue;
      out.push({ path: e.path, title: e.path, units: cfg.units, reductions: await reductionsOf(e.path) });
    }
    return out;
  }
  const seen = new Set<string>();
  for (const [i, s] of cfg.series.entries()) {
    const key = `series[${i}]`;
    const matches = isGlob(s.path) ? await wd.globAll(s.path) : [await wd.resolve(s.path, { followSymlinks: true })];
    const found = matches.filter((m) => m !== null && m.entryType === "file:series").map((m) => m!.path);
    if (found.length === 0) {
      const what = matches[0] && !isGlob(s.path) ? `is a ${matches[0].entryType}, not a series` : "matches no series in the pond";
      throw new SiteConfigError(cfg.file, `${key}.path`, `${JSON.stringify(s.path)} ${what}`, "Check the path with `pond list -l`, then fix /etc/site.yaml.");
    }
    for (const path of found) {
      if (seen.has(path)) continue;
      seen.add(path);
      out.push({
        path,
        title: s.title && found.length === 1 ? s.title : path,
        group: s.group,
        columns: s.columns,
        units: { ...cfg.units, ...s.units },
        reductions: await reductionsOf(path, s.reductions),
        configKey: { file: cfg.file, key: `${key}.columns` },
      });
    }
  }
  return out;
}
