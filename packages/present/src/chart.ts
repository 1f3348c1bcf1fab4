/**
 * `pond chart PATH --out x.svg|x.png`: one chart of a series drawn to a file without a
 * browser. The rows are read with DuckDB (only versions overlapping the time range),
 * reduced to four points per pixel column (chart-svg.ts `decimate`), and drawn as SVG
 * by our code; PNG is that SVG rasterized (chart-png.ts).
 */
import type { AsOf, Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { QuerySession, resolveSources, type TimeRange } from "@pond/tlogfs";
import { type ChartModel, decimate, renderSvg } from "./chart-svg.ts";
import { readLevelRows } from "./site-data.ts";
import { SiteInputError } from "./errors.ts";
import { isNumericType } from "./site-series.ts";

export interface ChartOptions {
  columns?: string[];
  range?: TimeRange;
  width: number;
  title?: string;
  asOf?: AsOf;
}

/** Reads `path` and lays out its chart (see the module comment). */
export async function chartModel(pond: Pond, path: string, opts: ChartOptions): Promise<ChartModel & { rows: number }> {
  const view = await pond.view(opts.asOf);
  const wd = new WD(view);
  const st = await wd.stat(path);
  if (st.entryType !== "file:series") {
    throw new SiteInputError("chart_not_series", `"${path}" is a ${st.entryType}; pond chart draws a series`, "Name a .series file (see `pond list -l`).", {
      path,
    });
  }
  const sources = await resolveSources(view, wd, path, { range: opts.range });
  const ts = sources[0]!.timestampColumn;
  if (!ts)
    throw new SiteInputError("chart_no_time_column", `"${path}" has no timestamp column`, "Store it again with host+series: and --timestamp-column.", { path });
  const session = await QuerySession.open();
  try {
    await session.addPondView("src", sources, opts.range);
    const columns = (await session.all("DESCRIBE SELECT * FROM src")).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const numeric = columns.filter((c) => c.name !== ts && isNumericType(c.type)).map((c) => c.name);
    const chosen = opts.columns ?? numeric;
    for (const c of chosen) {
      if (!numeric.includes(c)) {
        throw new SiteInputError("chart_bad_column", `"${path}" has no numeric column "${c}"`, `Choose from: ${numeric.join(", ") || "(none)"}.`, {
          path,
          column: c,
        });
      }
    }
    if (chosen.length === 0)
      throw new SiteInputError("chart_no_columns", `"${path}" has no numeric column to draw`, "Chart a series with numbers in it.", { path });
    const rows = await readLevelRows(session, "src", ts, chosen);
    const t = Float64Array.from(rows.t, (ms) => ms / 1000);
    const start = opts.range?.start !== undefined ? Number(opts.range.start) / 1e6 : (t[0] ?? 0);
    const end = opts.range?.end !== undefined ? Number(opts.range.end) / 1e6 : (t[t.length - 1] ?? start + 1);
    const pixels = Math.max(1, opts.width - 90);
    const panels = chosen.map((column, i) => {
      const v = Float64Array.from(rows.fields[i]!, (x) => (x === null ? Number.NaN : x));
      return { column, ...decimate(t, v, start, end, pixels) };
    });
    const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.000Z$/, "Z");
    return {
      title: opts.title ?? path,
      subtitle: `${rows.t.length.toLocaleString("en-US")} rows · ${iso(start)} to ${iso(end)} (UTC)`,
      width: opts.width,
      start,
      end: end > start ? end : start + 1,
      panels,
      rows: rows.t.length,
    };
  } finally {
    session.close();
  }
}

/** The chart of `path` as SVG text. */
export async function chartSvg(pond: Pond, path: string, opts: ChartOptions): Promise<{ svg: string; rows: number; points: number }> {
  const m = await chartModel(pond, path, opts);
  return { svg: renderSvg(m), rows: m.rows, points: m.panels.reduce((n, p) => n + p.t.length, 0) };
}
