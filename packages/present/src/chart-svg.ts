/**
 * One chart as SVG text, written by our code: one panel per column stacked vertically,
 * sharing the time axis (UTC). The input is already reduced to at most a few points per
 * pixel column (see `decimate`), so the file stays small whatever the series' length.
 */

export interface ChartPanel {
  column: string;
  unit?: string;
  /** Seconds since the epoch, ascending; values NaN where NULL (the line breaks there). */
  t: Float64Array;
  v: Float64Array;
}

export interface ChartModel {
  title: string;
  subtitle?: string;
  width: number;
  /** Time range shown, seconds since the epoch. */
  start: number;
  end: number;
  panels: ChartPanel[];
}

export const PANEL_HEIGHT = 200;
const MARGIN = { left: 70, right: 20, top: 56, bottom: 34, gap: 26 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const FONT = "Inter, DejaVu Sans, Arial, sans-serif";

/**
 * Keeps, for each of `pixels` columns across [start, end], the first, smallest, largest
 * and last point (in time order): the line drawn through them covers the same pixels as
 * the line through every point ("M4" aggregation). NaN values are kept as breaks.
 */
export function decimate(t: Float64Array, v: Float64Array, start: number, end: number, pixels: number): { t: Float64Array; v: Float64Array } {
  if (t.length <= pixels * 4) return { t, v };
  const outT: number[] = [];
  const outV: number[] = [];
  const span = end - start || 1;
  let i = 0;
  while (i < t.length) {
    const px = Math.floor(((t[i]! - start) / span) * pixels);
    let j = i;
    let lo = -1;
    let hi = -1;
    let gap = false;
    while (j < t.length && Math.floor(((t[j]! - start) / span) * pixels) === px) {
      const x = v[j]!;
      if (Number.isNaN(x)) gap = true;
      else {
        if (lo < 0 || x < v[lo]!) lo = j;
        if (hi < 0 || x > v[hi]!) hi = j;
      }
      j++;
    }
    const keep = [...new Set([i, lo, hi, j - 1].filter((k) => k >= 0))].sort((a, b) => a - b);
    for (const k of keep) {
      outT.push(t[k]!);
      outV.push(v[k]!);
    }
    if (gap && !keep.some((k) => Number.isNaN(v[k]!))) {
      // A NULL inside the pixel column: keep the break.
      outT.push(t[j - 1]!);
      outV.push(Number.NaN);
    }
    i = j;
  }
  return { t: Float64Array.from(outT), v: Float64Array.from(outV) };
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let x = Math.ceil(lo / step) * step; x <= hi + step * 1e-9; x += step) out.push(Number(x.toPrecision(12)));
  return out;
}

const S = 1;
const MIN = 60;
const H = 3600;
const D = 86400;
/** Time steps for ticks: seconds, or months when `months` is set. */
const TIME_STEPS: { s: number; months?: number }[] = [
  { s: S },
  { s: 5 * S },
  { s: 15 * S },
  { s: MIN },
  { s: 5 * MIN },
  { s: 15 * MIN },
  { s: H },
  { s: 3 * H },
  { s: 6 * H },
  { s: 12 * H },
  { s: D },
  { s: 2 * D },
  { s: 7 * D },
  { s: 30 * D, months: 1 },
  { s: 91 * D, months: 3 },
  { s: 182 * D, months: 6 },
  { s: 365 * D, months: 12 },
  { s: 2 * 365 * D, months: 24 },
  { s: 5 * 365 * D, months: 60 },
  { s: 10 * 365 * D, months: 120 },
  { s: 20 * 365 * D, months: 240 },
  { s: 50 * 365 * D, months: 600 },
];

/** Round UTC times for about `count` ticks over [start, end] (seconds), with their labels. */
export function timeTicks(start: number, end: number, count = 6): { t: number; label: string }[] {
  const span = Math.max(end - start, 1);
  const step = TIME_STEPS.find((s) => span / s.s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const out: number[] = [];
  if (step.months) {
    const d = new Date(start * 1000);
    const first = d.getUTCFullYear() * 12 + d.getUTCMonth() + (d.getUTCDate() > 1 || d.getUTCHours() > 0 ? 1 : 0);
    const m = Math.ceil(first / step.months) * step.months;
    for (let k = m; ; k += step.months) {
      const t = Date.UTC(Math.floor(k / 12), k % 12, 1) / 1000;
      if (t > end) break;
      out.push(t);
    }
  } else {
    for (let t = Math.ceil(start / step.s) * step.s; t <= end; t += step.s) out.push(t);
  }
  const iso = (t: number) => new Date(t * 1000).toISOString();
  const label = (t: number) => {
    const s = iso(t);
    if (step.months && step.months >= 12) return s.slice(0, 4);
    if (step.months) return s.slice(0, 7);
    if (step.s >= D) return s.slice(0, 10);
    if (step.s >= MIN) return s.slice(11, 16) === "00:00" ? s.slice(0, 10) : s.slice(11, 16);
    return s.slice(11, 19);
  };
  return out.map((t) => ({ t, label: label(t) }));
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function fmt(v: number): string {
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(6)));
}

/** The chart's height in pixels. */
export function chartHeight(m: ChartModel): number {
  return MARGIN.top + m.panels.length * PANEL_HEIGHT + (m.panels.length - 1) * MARGIN.gap + MARGIN.bottom;
}

/** Renders the model as a standalone SVG document. */
export function renderSvg(m: ChartModel): string {
  const W = m.width;
  const Ht = chartHeight(m);
  const plotW = W - MARGIN.left - MARGIN.right;
  const span = m.end - m.start || 1;
  const xOf = (t: number) => MARGIN.left + ((t - m.start) / span) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Ht}" viewBox="0 0 ${W} ${Ht}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="16" font-weight="bold" fill="#222">${esc(m.title)}</text>`,
  );
  if (m.subtitle) parts.push(`<text x="${MARGIN.left}" y="40" fill="#666">${esc(m.subtitle)}</text>`);
  const xticks = timeTicks(m.start, m.end);
  m.panels.forEach((p, i) => {
    const top = MARGIN.top + i * (PANEL_HEIGHT + MARGIN.gap);
    const bottom = top + PANEL_HEIGHT - 14;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < p.v.length; k++) {
      const x = p.v[k]!;
      if (Number.isNaN(x) || p.t[k]! < m.start || p.t[k]! > m.end) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const color = COLORS[i % COLORS.length]!;
    parts.push(`<text x="${MARGIN.left}" y="${top + 4}" font-weight="bold" fill="${color}">${esc(p.unit ? `${p.column} (${p.unit})` : p.column)}</text>`);
    const plotTop = top + 12;
    if (lo === Number.POSITIVE_INFINITY) {
      parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${(plotTop + bottom) / 2}" text-anchor="middle" fill="#888">no values in this range</text>`);
      return;
    }
    if (lo === hi) {
      lo -= Math.abs(lo) * 0.05 || 1;
      hi += Math.abs(hi) * 0.05 || 1;
    }
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const yOf = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - plotTop);
    for (const y of niceTicks(lo, hi)) {
      const py = yOf(y).toFixed(1);
      parts.push(`<line x1="${MARGIN.left}" x2="${W - MARGIN.right}" y1="${py}" y2="${py}" stroke="#e6e6e6"/>`);
      parts.push(`<text x="${MARGIN.left - 6}" y="${py}" dy="4" text-anchor="end" fill="#444">${esc(fmt(y))}</text>`);
    }
    for (const xt of xticks) {
      const px = xOf(xt.t).toFixed(1);
      parts.push(`<line x1="${px}" x2="${px}" y1="${plotTop}" y2="${bottom}" stroke="#eeeeee"/>`);
    }
    parts.push(`<rect x="${MARGIN.left}" y="${plotTop}" width="${plotW}" height="${bottom - plotTop}" fill="none" stroke="#999"/>`);
    let d = "";
    let pen = false;
    for (let k = 0; k < p.t.length; k++) {
      const x = p.v[k]!;
      if (Number.isNaN(x)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${xOf(p.t[k]!).toFixed(1)} ${yOf(x).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.25" stroke-linejoin="round"/>`);
  });
  const axisY = Ht - MARGIN.bottom + 6;
  for (const xt of xticks) {
    // A label at an edge is anchored inward, so it is not cut off.
    const x = xOf(xt.t);
    const half = xt.label.length * 3.4;
    const anchor = x + half > W ? "end" : x - half < 0 ? "start" : "middle";
    parts.push(`<text x="${x.toFixed(1)}" y="${axisY + 10}" text-anchor="${anchor}" fill="#444">${esc(xt.label)}</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
