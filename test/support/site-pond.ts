// A pond for the site's tests and benchmark: vega-datasets series from the shared fixtures,
// plus a generated station series of minutely readings (5 columns) with reductions at 1h,
// 6h, 1d and 7d in the layout `pond reduce` writes (`/reduced/<name>/res=<dur>.series`,
// columns `timestamp` and `<col>.<agg>`), computed here with DuckDB's GROUP BY and stored
// with `pond copy host+series:`, and a `/etc/reduce/station.yaml` naming them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { FIXTURES } from "./fixtures.ts";
import { pondOk } from "./pond-cli.ts";

export const STATION_COLUMNS = ["temp", "do", "ph", "cond", "level"] as const;
export const RESOLUTIONS = [
  ["1h", "1 hour"],
  ["6h", "6 hours"],
  ["1d", "1 day"],
  ["7d", "7 days"],
] as const;
export const VEGA = {
  "/vega/seattle-weather.series": "timeseries/vega-datasets/seattle-weather.csv",
  "/vega/hourly-normals.series": "timeseries/vega-datasets/seattle-weather-hourly-normals.csv",
  "/vega/co2.series": "timeseries/vega-datasets/co2-concentration.csv",
} as const;

/** Start of the generated readings (UTC). */
export const STATION_START = Date.UTC(2025, 0, 1);

/**
 * Writes `minutes` minutely readings from STATION_START and their reductions as Parquet
 * files into `dir`. Values are a seasonal and a daily cycle plus noise from `seed`.
 * Returns the files: `raw` and one per resolution label.
 */
export async function writeStationParquet(dir: string, minutes: number, seed: number): Promise<Record<string, string>> {
  const duck = await openDuckDB();
  try {
    const raw = join(dir, "station.parquet");
    const noise = (k: number) => `((hash(i * ${k} + ${seed}) % 10000) / 10000.0 - 0.5)`;
    await duck.run(`COPY (
      SELECT TIMESTAMP '2025-01-01' + i * INTERVAL 1 MINUTE AS timestamp,
        round(12 + 8 * sin(2 * pi() * i / 525600.0) + 3 * sin(2 * pi() * i / 1440.0) + ${noise(3)}, 3) AS temp,
        round(9 - 2 * sin(2 * pi() * i / 525600.0) + 0.8 * cos(2 * pi() * i / 1440.0) + ${noise(5)} * 0.4, 3) AS "do",
        round(7.6 + 0.3 * sin(2 * pi() * i / 1440.0) + ${noise(7)} * 0.1, 3) AS ph,
        round(420 + 30 * sin(2 * pi() * i / 43200.0) + ${noise(11)} * 10, 2) AS cond,
        round(1.5 + 0.4 * sin(2 * pi() * i / 262800.0) + ${noise(13)} * 0.02, 4) AS level
      FROM range(${minutes}) t(i)
    ) TO '${raw}' (FORMAT parquet, COMPRESSION zstd)`);
    const out: Record<string, string> = { raw };
    for (const [label, interval] of RESOLUTIONS) {
      const aggs = STATION_COLUMNS.flatMap((c) => ["avg", "min", "max", "count"].map((a) => `${a}("${c}") AS "${c}.${a}"`));
      const file = join(dir, `res=${label}.parquet`);
      await duck.run(
        `COPY (SELECT time_bucket(INTERVAL '${interval}', timestamp) AS timestamp, ${aggs.join(", ")} FROM read_parquet('${raw}') GROUP BY 1 ORDER BY 1) TO '${file}' (FORMAT parquet)`,
      );
      out[label] = file;
    }
    return out;
  } finally {
    duck.close();
  }
}

/** Fills the pond at `pondDir` (already initialised): vega series, /st/station.series and its reductions. */
export async function fillSitePond(pondDir: string, workDir: string, opts: { minutes: number; seed: number; vega?: boolean }): Promise<void> {
  const P = { pond: pondDir };
  await pondOk(["mkdir", "-p", "/vega", "/st", "/etc/reduce"], P);
  if (opts.vega !== false) for (const [path, file] of Object.entries(VEGA)) await pondOk(["copy", `host+series+csv://${join(FIXTURES, file)}`, path], P);
  const files = await writeStationParquet(workDir, opts.minutes, opts.seed);
  await pondOk(["copy", `host+series://${files.raw}`, "/st/station.series"], P);
  for (const [label] of RESOLUTIONS) await pondOk(["copy", "-p", `host+series://${files[label]}`, `/reduced/station/res=${label}.series`], P);
  const cfg = join(workDir, "station.yaml");
  writeFileSync(cfg, "in: /st/*.series\nout: /reduced\nresolutions: [1h, 6h, 1d, 7d]\naggregations: [avg, min, max, count]\n");
  await pondOk(["copy", `host://${cfg}`, "/etc/reduce/station.yaml"], P);
}
