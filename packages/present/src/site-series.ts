/**
 * One series of the site: its facts for the index page, and its levels of detail (raw
 * rows and reductions) written as chunk files (see site-data.ts) for its page.
 */
import { basename, type WD } from "@pond/tinyfs";
import { type QuerySession, resolveSources, type TLogView } from "@pond/tlogfs";
import { sqlIdent } from "@pond/tlogfs/duckdb";
import { autoResolutions, type ChartFields, type LevelManifest, medianStepMs, readBucketRows, readLevelRows, writeChunks } from "./site-data.ts";
import { SiteConfigError, SiteInputError } from "./errors.ts";
import type { ReductionLevel } from "./site-reductions.ts";

/** What the site shows of one series (from /etc/site.yaml, or the defaults). */
export interface SeriesChoice {
  path: string;
  title: string;
  group?: string;
  columns?: string[];
  units: Record<string, string>;
  reductions: ReductionLevel[];
  /** Where `columns` came from, to name it in an error (e.g. `/etc/site.yaml`, key `series[0].columns`). */
  configKey?: { file: string; key: string };
}

export interface SeriesPage {
  path: string;
  title: string;
  group?: string;
  /** File name stem of the page and its data folder: unique, safe in a URL. */
  slug: string;
  rows: number;
  /** First and last event time, ms since the epoch (null when the series has no rows). */
  start: number | null;
  end: number | null;
  /** When the newest version was written, µs since the epoch. */
  lastUpdate: bigint;
  versions: number;
  columns: { name: string; type: string }[];
  /** The columns charted, one chart each. */
  charts: { column: string; unit?: string }[];
  levels: LevelManifest[];
  /** Reductions left out (a column they lack), with the reason. */
  warnings: string[];
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;

/** True for a column type a chart can draw. */
export function isNumericType(type: string): boolean {
  return NUMERIC.test(type);
}

/** A page name for `path`: `/st/lake.series` → `st.lake`; `taken` keeps them unique. */
export function slugFor(path: string, taken: Set<string>): string {
  const base =
    path
      .replace(/^\/+/, "")
      .replace(/\.series$/, "")
      .replace(/\//g, ".")
      .replace(/[^A-Za-z0-9._-]/g, "_") || "series";
  let slug = base;
  for (let n = 2; taken.has(slug.toLowerCase()); n++) slug = `${base}-${n}`;
  taken.add(slug.toLowerCase());
  return slug;
}

/** The aggregate a reduction holds for a column's line, in order of preference. */
const VALUE_AGGS = ["avg", "last", "first"] as const;

/**
 * Reads `choice` from the view and writes its chunk files through `write(relPath, text)`
 * (paths relative to the site folder). The session is the caller's.
 */
export async function buildSeriesPage(
  session: QuerySession,
  view: TLogView,
  wd: WD,
  choice: SeriesChoice,
  slug: string,
  write: (rel: string, text: string) => void,
): Promise<SeriesPage> {
  const st = await wd.stat(choice.path);
  const versions = st.versions ?? [];
  const [source] = await resolveSources(view, wd, choice.path);
  const ts = source!.timestampColumn;
  if (!ts) {
    throw new SiteInputError(
      "site_no_time_column",
      `"${choice.path}" has no timestamp column to chart against`,
      "Store it as a series with a time column (pond copy host+series:).",
      {
        path: choice.path,
      },
    );
  }
  await session.addPondView("src", [source!]);
  try {
    const columns = (await session.all("DESCRIBE SELECT * FROM src")).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const numeric = columns.filter((c) => c.name !== ts && isNumericType(c.type)).map((c) => c.name);
    let charted = numeric;
    if (choice.columns) {
      for (const c of choice.columns) {
        if (!numeric.includes(c)) {
          const where = choice.configKey ?? { file: "/etc/site.yaml", key: "columns" };
          throw new SiteConfigError(
            where.file,
            where.key,
            `"${choice.path}" has no numeric column ${JSON.stringify(c)}; allowed: ${numeric.join(", ") || "(none)"}`,
          );
        }
      }
      charted = choice.columns;
    }
    const raw = await readLevelRows(session, "src", ts, charted);
    const levels: LevelManifest[] = [];
    levels.push({
      id: "raw",
      resolutionMs: medianStepMs(raw.t),
      source: choice.path,
      charts: charted.map((column, i) => ({ column, value: i })),
      chunks: writeChunks(raw, `${slug}/raw`, (i, text) => write(`data/${slug}/raw-${i}.js`, text)),
    });
    const warnings: string[] = [];
    for (const r of choice.reductions) {
      const level = await reductionLevel(session, view, wd, r, charted, slug, write);
      if (typeof level === "string") warnings.push(level);
      else levels.push(level);
    }
    if (choice.reductions.length === 0 && raw.t.length > 0) {
      // No reductions (pond reduce not run for it): levels computed here, so the page
      // still opens with at most MAX_POINTS points and zooms down to the raw rows.
      for (const [label, ms] of autoResolutions(raw.t.length, raw.t[raw.t.length - 1]! - raw.t[0]!, levels[0]!.resolutionMs)) {
        const rows = await readBucketRows(session, "src", ts, charted, ms);
        levels.push({
          id: label,
          resolutionMs: ms,
          source: `${choice.path} (${label} buckets computed by site build)`,
          charts: charted.map((column, i) => ({ column, value: 3 * i, min: 3 * i + 1, max: 3 * i + 2 })),
          chunks: writeChunks(rows, `${slug}/${label}`, (i, text) => write(`data/${slug}/${label}-${i}.js`, text)),
        });
      }
      if (levels.length > 1)
        warnings.push(
          `no reductions found: levels ${levels
            .slice(1)
            .map((l) => l.id)
            .join(", ")} computed by site build (run pond reduce to keep them in the pond)`,
        );
    }
    levels.sort((a, b) => a.resolutionMs - b.resolutionMs);
    return {
      path: choice.path,
      title: choice.title,
      group: choice.group,
      slug,
      rows: raw.t.length,
      start: raw.t.length ? raw.t[0]! : null,
      end: raw.t.length ? raw.t[raw.t.length - 1]! : null,
      lastUpdate: versions.at(-1)?.timestamp ?? 0n,
      versions: versions.length,
      columns,
      charts: charted.map((column) => ({ column, unit: choice.units[column] })),
      levels,
      warnings,
    };
  } finally {
    await session.all("DROP VIEW src");
  }
}

/** One reduction as a level, or why it cannot be one (a charted column it lacks). */
async function reductionLevel(
  session: QuerySession,
  view: TLogView,
  wd: WD,
  r: ReductionLevel,
  charted: string[],
  slug: string,
  write: (rel: string, text: string) => void,
): Promise<LevelManifest | string> {
  const [source] = await resolveSources(view, wd, r.path);
  await session.addPondView("red", [source!]);
  try {
    const names = new Set((await session.all("DESCRIBE SELECT * FROM red")).map((row) => String(row.column_name)));
    const ts = source!.timestampColumn ?? "timestamp";
    const fields: string[] = [];
    const charts: ChartFields[] = [];
    for (const column of charted) {
      const agg = VALUE_AGGS.find((a) => names.has(`${column}.${a}`));
      if (!agg) return `${basename(r.path)} left out: it has no ${VALUE_AGGS.map((a) => `${column}.${a}`).join(" / ")} column`;
      const c: ChartFields = { column, value: fields.push(`${column}.${agg}`) - 1 };
      if (names.has(`${column}.min`) && names.has(`${column}.max`)) {
        c.min = fields.push(`${column}.min`) - 1;
        c.max = fields.push(`${column}.max`) - 1;
      }
      charts.push(c);
    }
    if (!names.has(ts)) return `${basename(r.path)} left out: it has no time column ${sqlIdent(ts)}`;
    const rows = await readLevelRows(session, "red", ts, fields);
    return {
      id: r.label,
      resolutionMs: r.resolutionMs,
      source: r.path,
      charts,
      chunks: writeChunks(rows, `${slug}/${r.label}`, (i, text) => write(`data/${slug}/${r.label}-${i}.js`, text)),
    };
  } finally {
    await session.all("DROP VIEW red");
  }
}
