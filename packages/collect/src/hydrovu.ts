import { linkSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PondError, span } from "@pond/diagnostics";
import { encodeSeriesParquetParts, writeNewFileSynced } from "@pond/oplog";
import { WD, newSha256 } from "@pond/tinyfs";
import { AdoptableFile } from "@pond/tlogfs";
import { emptySummary, isoFromSeconds, type CollectContext, type CollectSummary } from "./collect-run.ts";
import { CollectRunError } from "./errors.ts";
import { addPageReadings, ArrayPool, columnOf, deviceTable, newDeviceRows, releaseDeviceRows, type DeviceRows } from "./device-rows.ts";
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

const TIMESTAMP = "timestamp";
/** Rows per Parquet row group: each has min/max statistics on the time column, for pruning by time. */
const ROW_GROUP_ROWS = 10_000;

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

/** One device's new rows, already written as the Parquet file of its next version (outside the transaction). */
export interface StagedDevice {
  plan: DevicePlan;
  parquet: string;
  /** The file's sha256 and size, computed from the bytes written (the store adopts the file without reading it). */
  sha256: string;
  size: number;
  rows: number;
  columns: string[];
  first: number;
  last: number;
}

/**
 * One run: fetch every active device from its watermark, then write all devices' new
 * versions in one transaction. Any failure before the commit writes nothing, so the
 * next run starts from the same watermarks.
 *
 * Each device's rows become a Parquet file as soon as the device is fetched, so a run
 * holds one device's rows in memory at a time and the transaction only adopts finished
 * files. No DuckDB: the Parquet codec writes the files.
 */
export async function runHydroVu(cfg: HydroVuConfig, ctx: CollectContext): Promise<CollectSummary> {
  const summary = emptySummary(cfg.file, "hydrovu");
  const planning = span("hydrovu_planned");
  const plans = await planHydroVu(cfg, new WD(await ctx.pond.view()));
  planning.end({ devices: plans.length });
  if (ctx.dryRun) {
    summary.plan = plans.map(
      (p) => `device ${p.id} (${p.name}) → ${p.series} from ${isoFromSeconds(p.startTime)}${p.watermark === null ? " (new series)" : ""}`,
    );
    return summary;
  }
  const { api, secrets } = apiFor(cfg, ctx);
  const staging = join(ctx.pond.paths.data, "_large_files");
  const staged: StagedDevice[] = [];
  try {
    try {
      // Asked for beside the devices' first pages and awaited with the first page that has
      // readings: a run that finds nothing new never waits for it.
      const names = api.friendlyNames().catch((e) => {
        throw asRunError(cfg, "fetching parameter names", e, secrets);
      });
      names.catch(() => {}); // a run whose devices all fail or find nothing may never await it
      ctx.progress.total(plans.length, undefined);
      const done = await fetchDevices(cfg, ctx, api, names, plans, staging);
      staged.push(...done.staged);
      summary.notes.push(...done.notes);
      if (done.failure) throw asRunError(cfg, done.failure.what, done.failure.error, secrets);
    } finally {
      summary.requests = api.http.requests;
    }
    if (staged.length === 0) return summary;
    let lo = Infinity,
      hi = -Infinity;
    const committing = span("hydrovu_committed");
    const { seq } = await ctx.pond.write(ctx.command, async ({ txn, note }) => {
      const wd = new WD(txn);
      summary.rowsAdded = 0;
      summary.versionsAdded = 0;
      lo = Infinity;
      hi = -Infinity;
      for (const d of staged) {
        // Read again inside the transaction: a run that landed since the plan moved the watermark,
        // and these rows may overlap it. They are left out; the next run continues from there.
        const wm = await seriesWatermark(wd, d.plan.series);
        if ((wm === null ? null : Number(wm / 1_000_000n)) !== d.plan.watermark) {
          summary.notes.push(`device ${d.plan.id} (${d.plan.name}): another run wrote ${d.plan.series} meanwhile; the next run continues from it`);
          continue;
        }
        const written = await addDeviceVersion(wd, d);
        note(`collected ${d.rows} rows into ${d.plan.series} (v${written})`);
        summary.rowsAdded += d.rows;
        summary.versionsAdded++;
        lo = Math.min(lo, d.first);
        hi = Math.max(hi, d.last);
      }
    });
    committing.end({ versions: summary.versionsAdded });
    summary.seq = seq;
    if (summary.rowsAdded > 0) {
      summary.start = isoFromSeconds(lo);
      summary.end = isoFromSeconds(hi);
    }
    return summary;
  } finally {
    for (const d of staged) rmSync(d.parquet, { force: true });
  }
}

/**
 * Devices fetched at once when the run has no point budget. With two, the server works on
 * one device's next page while pond parses, merges and stages the other's, so neither side
 * waits for the other (one device's pages can only be asked for one at a time: each
 * page's answer names the next). More would only queue at the server.
 */
const LANES = 2;

/**
 * Fetches and stages every device: in device order with a point budget (the budget is
 * spent in that order), else LANES devices at a time. The first failure stops the other
 * lanes at their next page; every file staged so far is returned so the caller removes it.
 */
async function fetchDevices(
  cfg: HydroVuConfig,
  ctx: CollectContext,
  api: HydroVuApi,
  names: Promise<FriendlyNames>,
  plans: DevicePlan[],
  staging: string,
): Promise<{ staged: StagedDevice[]; notes: string[]; failure?: { what: string; error: unknown } }> {
  const budget = cfg.max_points_per_run;
  const staged: (StagedDevice | undefined)[] = [];
  const notes: string[][] = plans.map(() => []);
  let failure: { what: string; error: unknown } | undefined;
  let points = 0;
  let next = 0;
  // The devices' arrays go from one device to the next once its file is written (ArrayPool).
  const pool = new ArrayPool();
  // A device is staged while its lane already fetches the next one: the server is not left
  // idle while pond merges and encodes (most of staging then runs on the thread pool).
  const stagings: Promise<void>[] = [];
  const lane = async () => {
    while (failure === undefined && next < plans.length) {
      const i = next++;
      const plan = plans[i]!;
      const what = `device ${plan.id} (${plan.name})`;
      if (budget !== undefined && points >= budget) {
        notes[i]!.push(`${what} waits for the next run (max_points_per_run ${budget} reached)`);
        continue;
      }
      try {
        const fetching = span("hydrovu_device_fetched");
        const r = await fetchDevice(api, plan, names, budget === undefined ? Infinity : budget - points, ctx, () => failure !== undefined, pool);
        fetching.end({ device: plan.id, points: r.points });
        if (failure !== undefined) return;
        points += r.points;
        if (r.truncated) notes[i]!.push(`${what} stopped at max_points_per_run; the next run continues`);
        const staging1 = span("hydrovu_device_staged");
        stagings.push(
          // After a turn of the event loop: the lane's next request goes out first.
          new Promise<void>((go) => setImmediate(go))
            .then(() => stageDevice(plan, r.device, staging))
            .then(
              (s) => {
                staged[i] = s;
                releaseDeviceRows(r.device);
                staging1.end({ device: plan.id, rows: s?.rows ?? 0 });
                ctx.progress.tick(1, 0);
              },
              (error: unknown) => {
                failure ??= { what, error };
              },
            ),
        );
      } catch (error) {
        failure ??= { what, error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: budget === undefined ? LANES : 1 }, lane));
  await Promise.all(stagings);
  return { staged: staged.filter((s) => s !== undefined), notes: notes.flat(), ...(failure ? { failure } : {}) };
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
  names: Promise<FriendlyNames>,
  budget: number,
  ctx: CollectContext,
  stop: () => boolean,
  pool: ArrayPool,
): Promise<{ device: DeviceRows; points: number; truncated: boolean }> {
  const device = newDeviceRows(pool);
  let points = 0,
    pages = 0,
    truncated = false;
  for await (const page of api.data(plan.id, plan.startTime)) {
    if (stop()) break;
    pages++;
    let pageMin = Infinity;
    const { parameters, units } = await names;
    for (const p of page.parameters) {
      const col = columnOf(device, `${parameters[p.parameterId] ?? p.parameterId}.${units[p.unitId] ?? p.unitId}`);
      points += p.readings.length;
      pageMin = Math.min(pageMin, addPageReadings(device, col, p.readings, plan.startTime));
    }
    ctx.progress.tick(0, page.bytes);
    if (points >= budget && pages >= 2) {
      truncated = true;
      device.cutoff = pageMin;
      break;
    }
  }
  return { device, points, truncated };
}

/**
 * Writes a device's rows, sorted by time, as the Parquet file of its next version, then
 * the rows can go. The file is what DuckDB would write for the same rows and what ingest
 * records for it: `timestamp` INT64 TIMESTAMP (µs, adjusted to UTC: DuckDB reads
 * TIMESTAMP WITH TIME ZONE) and one optional DOUBLE per parameter, in row groups with
 * min/max statistics, so time-range pruning works as on any series version. Written by
 * oplog's series writer from the merged typed-array columns, without DuckDB (measured:
 * DuckDB's start and its JSON Lines → Parquet conversion were ~60% of a run's CPU) and
 * without the general Parquet writer (~30 ms a device warm, far more while the JIT warms).
 */
export async function stageDevice(plan: DevicePlan, d: DeviceRows, staging: string): Promise<StagedDevice | undefined> {
  const table = deviceTable(d);
  const n = table.times.length;
  if (n === 0) return undefined;
  const parts = await encodeSeriesParquetParts(
    { time: { name: TIMESTAMP, values: table.times, unitMicros: 1_000_000 }, doubles: table.columns },
    { rowGroupSize: ROW_GROUP_ROWS },
  );
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const parquet = join(staging, `.tmp-hydrovu-${crypto.randomUUID()}.parquet`);
  mkdirSync(staging, { recursive: true });
  // Hashed here and fsynced on the thread pool while the run goes on: the commit then only links it.
  const hash = newSha256();
  let size = 0;
  for (const p of parts) {
    hash.update(p);
    size += p.length;
  }
  await writeNewFileSynced(parquet, parts);
  return { plan, parquet, sha256: hash.hex(), size, rows: n, columns: table.columns.map((c) => c.name), first: table.times[0]!, last: table.times[n - 1]! };
}

/**
 * Adds the staged Parquet file as the device's next version. The store may take the file
 * it is given as the payload (and unlink that path); a transaction that is retried after a
 * conflict runs this again, so the store gets a hard link of the staged file, never the file.
 */
async function addDeviceVersion(wd: WD, d: StagedDevice): Promise<number> {
  const given = `${d.parquet}.${crypto.randomUUID().slice(0, 8)}`; // still a `.tmp-` name
  linkSync(d.parquet, given);
  try {
    return await createDeviceVersion(wd, d, given);
  } finally {
    rmSync(given, { force: true });
  }
}

async function createDeviceVersion(wd: WD, d: StagedDevice, parquet: string): Promise<number> {
  const r = await wd.createFile(d.plan.series, "file:series", new AdoptableFile(parquet, { sha256: d.sha256, size: d.size }), {
    parents: true,
    attributes: {
      rows: d.rows,
      columns: [{ name: TIMESTAMP, type: "TIMESTAMP WITH TIME ZONE" }, ...d.columns.map((name) => ({ name, type: "DOUBLE" }))],
      timestamp_column: TIMESTAMP,
    },
    minEventTime: BigInt(d.first) * 1_000_000n,
    maxEventTime: BigInt(d.last) * 1_000_000n,
  });
  return r.version.version;
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
