import { closeSync, linkSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
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
  /** Column names in order of first appearance; a row holds its values at these indexes. */
  columns: string[];
  rows: Map<number, (number | undefined)[]>;
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

/** One device's new rows, already written as the Parquet file of its next version (outside the transaction). */
interface StagedDevice {
  plan: DevicePlan;
  jsonl: string;
  parquet: string;
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
 * Each device's rows become a Parquet file as soon as the device is fetched (DuckDB
 * converts it on its own threads while the next device is fetched), so a run holds one
 * device's rows in memory at a time and the transaction only adopts finished files.
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
  const staging = join(ctx.pond.paths.data, "_large_files");
  const staged: StagedDevice[] = [];
  // Conversions run one after another (one DuckDB connection), each while later devices are fetched.
  let converting: Promise<unknown> = Promise.resolve();
  let current = "fetching parameter names";
  try {
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
        if (r.device.rows.size > 0) {
          mkdirSync(staging, { recursive: true });
          const s = stageDevice(r.device, staging);
          staged.push(s.staged);
          const previous = converting;
          converting = previous.then(s.convert);
          converting.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
        }
        ctx.progress.tick(1, 0);
      }
    } catch (e) {
      throw asRunError(cfg, current, e, secrets);
    } finally {
      summary.requests = api.http.requests;
    }
    await converting;
    if (staged.length === 0) return summary;
    let lo = Infinity,
      hi = -Infinity;
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
    summary.seq = seq;
    if (summary.rowsAdded > 0) {
      summary.start = isoFromSeconds(lo);
      summary.end = isoFromSeconds(hi);
    }
    return summary;
  } finally {
    await converting.catch(() => {});
    for (const d of staged) {
      rmSync(d.jsonl, { force: true });
      rmSync(d.parquet, { force: true });
    }
  }
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
  const device: DeviceRows = { plan, rows: new Map(), columns: [] };
  const columnIndex = new Map<string, number>();
  let points = 0,
    pages = 0,
    cutoff = Infinity,
    truncated = false;
  for await (const page of api.data(plan.id, plan.startTime)) {
    pages++;
    let pageMin = Infinity;
    for (const p of page.parameters) {
      const name = `${names.parameters[p.parameterId] ?? p.parameterId}.${names.units[p.unitId] ?? p.unitId}`;
      let col = columnIndex.get(name);
      if (col === undefined) {
        col = device.columns.push(name) - 1;
        columnIndex.set(name, col);
      }
      for (const r of p.readings) {
        points++;
        if (r.timestamp < pageMin) pageMin = r.timestamp;
        if (r.timestamp < plan.startTime) continue; // the API repeats readings before startTime
        let row = device.rows.get(r.timestamp);
        if (!row) {
          row = [];
          device.rows.set(r.timestamp, row);
        }
        if (row[col] === undefined) row[col] = r.value; // a reading repeated on a later page: keep the first
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

/**
 * Writes a device's rows, sorted by time, as JSON Lines now (then the rows can go) and
 * returns how to turn them into the version's Parquet file (`convert`, run later).
 */
function stageDevice(d: DeviceRows, staging: string): { staged: StagedDevice; convert: () => Promise<void> } {
  const id = crypto.randomUUID();
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const jsonl = join(staging, `.tmp-hydrovu-${id}.jsonl`);
  const parquet = join(staging, `.tmp-hydrovu-${id}.parquet`);
  // A parameter that appears only on readings before startTime has no value: no column.
  const used = d.columns.map(() => false);
  for (const row of d.rows.values()) for (let i = 0; i < row.length; i++) if (row[i] !== undefined) used[i] = true;
  const columns = d.columns.filter((_, i) => used[i]).sort();
  const times = Float64Array.from(d.rows.keys()).sort();
  // Lines written by hand: a finite number's JSON text is String(n), the keys are quoted once.
  // (Measured: half the CPU of JSON.stringify of row objects, or of one growing string.)
  const keys = d.columns.map((c) => `,${JSON.stringify(c)}:`);
  const fd = openSync(jsonl, "wx");
  try {
    let lines: string[] = [];
    for (const t of times) {
      const row = d.rows.get(t)!;
      let line = `{"${TIMESTAMP}":${t}`;
      for (let i = 0; i < row.length; i++) if (row[i] !== undefined) line += keys[i]! + row[i]!;
      lines.push(line);
      if (lines.length === 8192) {
        writeSync(fd, lines.join("}\n") + "}\n");
        lines = [];
      }
    }
    if (lines.length > 0) writeSync(fd, lines.join("}\n") + "}\n");
  } finally {
    closeSync(fd);
  }
  const staged: StagedDevice = { plan: d.plan, jsonl, parquet, rows: times.length, columns, first: times[0]!, last: times[times.length - 1]! };
  const convert = async () => {
    try {
      await writeRowsParquet(jsonl, parquet, [{ name: TIMESTAMP, type: "epoch_s" }, ...columns.map((name) => ({ name, type: "DOUBLE" as const }))], TIMESTAMP);
    } finally {
      rmSync(jsonl, { force: true });
    }
  };
  return { staged, convert };
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
  const r = await wd.createFile(d.plan.series, "file:series", new AdoptableFile(parquet), {
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
