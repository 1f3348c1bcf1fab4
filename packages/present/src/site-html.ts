/**
 * The site's HTML: an index page (a table of the series, by group) and one page per
 * series. Pages are static; a series page carries its manifest inline (no fetch, so it
 * works from a file:// URL) and loads the chart library and its script from assets/.
 */
import { MAX_POINTS } from "./site-data.ts";
import type { SeriesPage } from "./site-series.ts";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON safe inside a <script> element (no `</script>`, no U+2028/2029 surprises). */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function isoMs(ms: number | null): string {
  return ms === null ? "–" : new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

function isoMicros(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85rem}
.toolbar{display:flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:.5rem 0}.toolbar button{font:inherit;padding:.2rem .6rem}
#status{color:#555;font-size:.85rem;margin-left:.5rem}.chart{margin:.75rem 0}.meta{color:#555;font-size:.85rem}.warn{color:#a40}
a{color:#1f5fa8}footer{margin-top:2rem;color:#888;font-size:.8rem}`;

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

/** The index page: one table per group (series without a group last). */
export function indexHtml(title: string, pages: SeriesPage[], groups: string[], builtAt: Date): string {
  const order = [...groups, ...new Set(pages.map((p) => p.group).filter((g): g is string => g !== undefined && !groups.includes(g)))];
  const sections: { heading?: string; pages: SeriesPage[] }[] = order.map((g) => ({ heading: g, pages: pages.filter((p) => p.group === g) }));
  sections.push({ heading: order.length ? "Other series" : undefined, pages: pages.filter((p) => p.group === undefined) });
  const body = sections
    .filter((s) => s.pages.length > 0)
    .map((s) => {
      const rows = s.pages
        .map(
          (p) => `<tr data-path="${escapeHtml(p.path)}">
<td><a href="series/${encodeURIComponent(p.slug)}.html">${escapeHtml(p.title)}</a>${p.title !== p.path ? `<br><code>${escapeHtml(p.path)}</code>` : ""}</td>
<td>${isoMs(p.start)}<br>${isoMs(p.end)}</td>
<td class="num">${p.rows.toLocaleString("en-US")}</td>
<td>${isoMicros(p.lastUpdate)}<br><span class="meta">${p.versions} version${p.versions === 1 ? "" : "s"}</span></td>
<td>${p.columns.map((c) => `<code>${escapeHtml(c.name)}</code> <span class="meta">${escapeHtml(c.type.toLowerCase())}</span>`).join("<br>")}</td>
</tr>`,
        )
        .join("\n");
      return `${s.heading ? `<h2>${escapeHtml(s.heading)}</h2>\n` : ""}<table>
<thead><tr><th>Series</th><th>Time range (UTC)</th><th>Rows</th><th>Last update</th><th>Columns</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
    })
    .join("\n");
  return page(
    title,
    `<style>${STYLE}</style>`,
    `<h1>${escapeHtml(title)}</h1>
${pages.length ? body : "<p>This pond has no series to show.</p>"}
<footer>Built by pond site build at ${builtAt.toISOString().replace(/\.\d{3}Z$/, "Z")}</footer>`,
  );
}

/** What a series page's script reads (window.POND_SERIES). */
export function seriesManifest(p: SeriesPage): Record<string, unknown> {
  return {
    slug: p.slug,
    path: p.path,
    start: p.start,
    end: p.end,
    charts: p.charts,
    bands: p.charts.map((_, i) => p.levels.some((l) => l.charts[i]?.min !== undefined)),
    levels: p.levels.map((l) => ({
      id: l.id,
      resolutionMs: l.resolutionMs,
      charts: l.charts,
      chunks: l.chunks.map((c) => ({ t0: c.t0, t1: c.t1, rows: c.rows })),
    })),
  };
}

/** The chunk files of the level a page opens with (the whole range): loaded by the page itself, not on demand. */
function openingChunks(p: SeriesPage): string[] {
  const rows = (l: SeriesPage["levels"][number]) => l.chunks.reduce((n, c) => n + c.rows, 0);
  const level = p.levels.find((l) => rows(l) <= MAX_POINTS) ?? p.levels[p.levels.length - 1];
  if (!level || p.start === null) return [];
  return level.chunks.map((_, i) => `data/${encodeURIComponent(p.slug)}/${encodeURIComponent(level.id)}-${i}.js`);
}

/** A series page: a toolbar, a status line, and the charts the script draws. */
export function seriesHtml(siteTitle: string, p: SeriesPage): string {
  const levels = p.levels.map((l) => (l.id === "raw" ? "raw rows" : l.id)).join(", ");
  return page(
    `${p.title} · ${siteTitle}`,
    `<link rel="stylesheet" href="../assets/uPlot.min.css">
<style>${STYLE}</style>
<script src="../assets/uPlot.iife.min.js"></script>`,
    `<p><a href="../index.html">← ${escapeHtml(siteTitle)}</a></p>
<h1>${escapeHtml(p.title)}</h1>
<p class="meta"><code>${escapeHtml(p.path)}</code> · ${p.rows.toLocaleString("en-US")} rows · ${isoMs(p.start)} to ${isoMs(p.end)} · levels: ${escapeHtml(levels)}</p>
${p.warnings.map((w) => `<p class="warn">${escapeHtml(w)}</p>`).join("\n")}
<div class="toolbar"><button id="pan-left" title="Earlier">◀</button><button id="zoom-in" title="Zoom in">+</button><button id="zoom-out" title="Zoom out">−</button><button id="pan-right" title="Later">▶</button><button id="zoom-all" title="Show everything">All</button><span id="status"></span></div>
<p class="meta">Drag across a chart or use the mouse wheel to zoom; shift+drag to pan; double-click to show everything.</p>
<div id="charts"></div>
<script>window.POND_SERIES = ${scriptJson(seriesManifest(p))};</script>
<script src="../assets/pond-site.js"></script>
${openingChunks(p)
  .map((f) => `<script src="../${f}"></script>`)
  .join("\n")}`,
  );
}
