import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PondError } from "@pond/diagnostics";
import { WD } from "@pond/tinyfs";
import { AdoptableFile, writeRowsParquet } from "@pond/tlogfs";
import { emptySummary, isoFromSeconds, type CollectContext, type CollectSummary } from "./collect-run.ts";
import { CollectRunError } from "./errors.ts";
import { HttpClient } from "./http-client.ts";
import { HydroVuApi, type FriendlyNames, type HydroVuLocation } from "./hydrovu-api.ts";
import { HYDROVU_DEFAULT_BASE, type HydroVuConfig } from "./hydrovu-config.ts";
import { resolveSecretRef } from "./secret-ref.ts";
import { seriesWatermark } from "./series-watermark.ts";

/** One active device's place in a run: where it goes and from when. */
export interface DevicePlan {
  id: number;
  name: string;
  series: string;
  /** Unix seconds sent as startTime: the watermark + 1 s, or `start:`, or 0 (all history). */
  startTime: number;
  /** Newest event time already stored (unix s), or null for an empty or new series. */
  watermark: number | null;
}

/** Rows fetched for one device, keyed by timestamp (unix s): one row per distinct time. */
interface DeviceRows {
  plan: DevicePlan;
  rows: Map<number, Record<string, number>>;
  columns: Set<string>;
}

const TIMESTAMP = "timestamp";

/** Each active device's series and start time, from the series' recorded max_event_time. */
export async function planHydroVu(cfg: HydroVuConfig, wd: WD): Promise<DevicePlan[]> {
  const start = cfg.start === undefined ? 0 : Math.floor(new Date(cfg.start).getTime() / 1000);
  const plans: DevicePlan[] = [];
  for (const d of cfg.devices) {
    if (d.active === false) continue;
    const series = `${cfg.destination.replace(/\/+$/, "")}/${d.name}.series`;
    const wm = await seriesWatermark(wd, series);
    const watermark = wm === null ? null : Number(wm / 1_000_000n);
    plans.push({ id: Number(d.id), name: d.name, series, watermark, startTime: watermark === null ? start : watermark + 1 });
  }
  return plans;
}

function apiFor(cfg: HydroVuConfig, ctx: CollectContext): { api: HydroVuApi; secrets: string[] } {
  const clientId = resolveSecretRef(cfg.file, "client_id", cfg.client_id, ctx.env);
  const clientSecret = resolveSecretRef(cfg.file, "client_secret", cfg.client_secret, ctx.env);
  const http = new HttpClient({
    timeoutSeconds: cfg.request_timeout,
    maxRetries: cfg.max_retries,
    requestsPerMinute: cfg.requests_per_minute,
    fetch: ctx.fetch,
  });
  return { api: new HydroVuApi(cfg.base_url ?? HYDROVU_DEFAULT_BASE, { clientId, clientSecret }, http), secrets: [clientId, clientSecret] };
}

/** `pond collect --list-locations CONFIG`: the account's locations, to fill `devices:`. */
export async function listHydroVuLocations(cfg: HydroVuConfig, ctx: CollectContext): Promise<HydroVuLocation[]> {
  const { api, secrets } = apiFor(cfg, ctx);
  try {
    return await api.locations();
  } catch (e) {
    throw asRunError(cfg, "listing locations", e, secrets);
  }
}

/**
 * One run: fetch every active device from its watermark, then write all devices' new
 * versions in one transaction. Any failure before the commit writes nothing, so the
 * next run starts from the same watermarks.
 */
export async function runHydroVu(cfg: HydroVuConfig, ctx: CollectContext): Promise<CollectSummary> {
  const summary = emptySummary(cfg.file, "hydrovu");
  const plans = await planHydroVu(cfg, new WD(await ctx.pond.view()));
  if (ctx.dryRun) {
    summary.plan = plans.map(
      (p) => `device ${p.id} (${p.name}) → ${p.series} from ${isoFromSeconds(p.startTime)}${p.watermark === null ? " (new series)" : ""}`,
    );
    return summary;
  }
  const { api, secrets } = apiFor(cfg, ctx);
  const fetched: DeviceRows[] = [];
  let current = "fetching parameter names";
  try {
    const names = await api.friendlyNames();
    ctx.progress.total(plans.length, undefined);
    let points = 0;
    for (const plan of plans) {
      if (cfg.max_points_per_run !== undefined && points >= cfg.max_points_per_run) {
        summary.notes.push(`device ${plan.id} (${plan.name}) waits for the next run (max_points_per_run ${cfg.max_points_per_run} reached)`);
        continue;
      }
      current = `device ${plan.id} (${plan.name})`;
      const r = await fetchDevice(api, plan, names, cfg.max_points_per_run === undefined ? Infinity : cfg.max_points_per_run - points, ctx);
      points += r.points;
      if (r.truncated) summary.notes.push(`device ${plan.id} (${plan.name}) stopped at max_points_per_run; the next run continues`);
      fetched.push(r.device);
      ctx.progress.tick(1, 0);
    }
  } catch (e) {
    summary.requests = api.http.requests;
    throw asRunError(cfg, current, e, secrets);
  } finally {
    summary.requests = api.http.requests;
  }
  if (fetched.every((d) => d.rows.size === 0)) return summary;
  const staging = join(ctx.pond.paths.data, "_large_files");
  mkdirSync(staging, { recursive: true });
  let lo = Infinity,
    hi = -Infinity;
  const { seq } = await ctx.pond.write(ctx.command, async ({ txn, note }) => {
    const wd = new WD(txn);
    summary.rowsAdded = 0;
    summary.versionsAdded = 0;
    lo = Infinity;
    hi = -Infinity;
    for (const d of fetched) {
      // Recomputed inside the transaction: another run may have landed since the plan.
      const wm = await seriesWatermark(wd, d.plan.series);
      const after = wm === null ? -Infinity : Number(wm / 1_000_000n);
      const times = [...d.rows.keys()].filter((t) => t > after).sort((a, b) => a - b);
      if (times.length === 0) continue;
      const written = await writeDeviceVersion(wd, d, times, staging);
      note(`collected ${times.length} rows into ${d.plan.series} (v${written})`);
      summary.rowsAdded += times.length;
      summary.versionsAdded++;
      lo = Math.min(lo, times[0]!);
      hi = Math.max(hi, times[times.length - 1]!);
    }
  });
  summary.seq = seq;
  if (summary.rowsAdded > 0) {
    summary.start = isoFromSeconds(lo);
    summary.end = isoFromSeconds(hi);
  }
  return summary;
}

/**
 * Fetches one device's pages from its start time. With a point budget, stops after the
 * page that exhausts it and keeps only readings older than that page's earliest one:
 * pages advance in time but may overlap and repeat, so the last page is the lookahead
 * that proves nothing earlier is still to come, and the next run fetches it again.
 */
async function fetchDevice(
  api: HydroVuApi,
  plan: DevicePlan,
  names: FriendlyNames,
  budget: number,
  ctx: CollectContext,
): Promise<{ device: DeviceRows; points: number; truncated: boolean }> {
  const device: DeviceRows = { plan, rows: new Map(), columns: new Set() };
  let points = 0,
    pages = 0,
    cutoff = Infinity,
    truncated = false;
  for await (const page of api.data(plan.id, plan.startTime)) {
    pages++;
    let pageMin = Infinity;
    for (const p of page.parameters) {
      const col = `${names.parameters[p.parameterId] ?? p.parameterId}.${names.units[p.unitId] ?? p.unitId}`;
      for (const r of p.readings) {
        points++;
        pageMin = Math.min(pageMin, r.timestamp);
        if (r.timestamp < plan.startTime) continue; // the API repeats readings before startTime
        let row = device.rows.get(r.timestamp);
        if (!row) {
          row = {};
          device.rows.set(r.timestamp, row);
        }
        if (!(col in row)) row[col] = r.value; // a reading repeated on a later page: keep the first
        device.columns.add(col);
      }
    }
    ctx.progress.tick(0, page.bytes);
    if (points >= budget && pages >= 2) {
      truncated = true;
      cutoff = pageMin;
      break;
    }
  }
  if (truncated) for (const t of [...device.rows.keys()]) if (t >= cutoff) device.rows.delete(t);
  return { device, points, truncated };
}

async function writeDeviceVersion(wd: WD, d: DeviceRows, times: number[], staging: string): Promise<number> {
  const id = crypto.randomUUID();
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const jsonl = join(staging, `.tmp-hydrovu-${id}.jsonl`);
  const parquet = join(staging, `.tmp-hydrovu-${id}.parquet`);
  const columns = [...d.columns].sort();
  try {
    const lines: string[] = [];
    for (const t of times) lines.push(JSON.stringify({ [TIMESTAMP]: t, ...d.rows.get(t) }));
    writeFileSync(jsonl, lines.join("\n") + "\n");
    await writeRowsParquet(jsonl, parquet, [{ name: TIMESTAMP, type: "epoch_s" }, ...columns.map((name) => ({ name, type: "DOUBLE" as const }))], TIMESTAMP);
    const r = await wd.createFile(d.plan.series, "file:series", new AdoptableFile(parquet), {
      parents: true,
      attributes: {
        rows: times.length,
        columns: [{ name: TIMESTAMP, type: "TIMESTAMP WITH TIME ZONE" }, ...columns.map((name) => ({ name, type: "DOUBLE" }))],
        timestamp_column: TIMESTAMP,
      },
      minEventTime: BigInt(times[0]!) * 1_000_000n,
      maxEventTime: BigInt(times[times.length - 1]!) * 1_000_000n,
    });
    return r.version.version;
  } finally {
    rmSync(jsonl, { force: true });
    rmSync(parquet, { force: true });
  }
}

/**
 * An HTTP or response error as the run's failure. The cause may quote a server's answer,
 * and some servers echo the form they were sent (client id and secret): every resolved
 * secret is blanked out of it, so no value reaches the terminal, a log or `pond log`.
 */
function asRunError(cfg: HydroVuConfig, what: string, e: unknown, secrets: string[]): unknown {
  if (e instanceof PondError && (e.code === "http_failed" || e.code === "bad_response")) return new CollectRunError(cfg.file, what, redact(e.message, secrets));
  return e;
}

/** `text` with each secret (and its URL-encoded form) replaced by "***". */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length === 0) continue;
    for (const form of new Set([s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)])) out = out.split(form).join("***");
  }
  return out;
}
