import { closeSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { BadProfileFileError, ProfileTimezoneError, UnknownProfileError } from "./errors.ts";
import type { SqlIngestInput } from "@pond/tlogfs";

/**
 * Named recipes for instrument exports that need more than sniffing. Each says how to
 * read the file (the table `source`) and which SELECT turns it into the stored rows;
 * `pond copy --profile NAME` and `kind: inbox` use them. They are data (reader settings
 * and SQL text), so DuckDB stays behind tlogfs.
 *
 * - `laketech`: a long CSV `Timestamp, "Series Name", Location, Parameter, Value, Offset`,
 *   pivoted to one DOUBLE column per `<Series Name>.<Parameter>`; Value − Offset where
 *   Offset is set.
 * - `ysi`: YSI sonde exports, a units row under the header and separate Date (M/D/Y) and
 *   Time columns; columns become `<name>.<unit>`, times are local to the zone named in
 *   the file name (`…_CDT_…`) unless --timezone says otherwise.
 * - `usgs-rdb`: USGS RDB, a `#` preamble, a header, a type-code row (`5s 15s 20d 14n`),
 *   tab-separated: `n` columns become DOUBLE, `d` columns TIMESTAMP, the rest text.
 * - `insitu`: In-Situ / HydroVu CSV exports: `NA` means null, and the first column of
 *   `…Z` times is the event time (naive local times in other columns are kept as read).
 */
export const PROFILES = ["laketech", "ysi", "usgs-rdb", "insitu"] as const;
export type ProfileName = (typeof PROFILES)[number];

export interface ProfilePlan {
  input: SqlIngestInput;
  sql: string;
  timestampColumn?: string;
}

/** What a profile needs to know beyond the file: a time zone for exports without one. */
export interface ProfileOptions {
  timezone?: string;
}

export function isProfile(name: string): name is ProfileName {
  return (PROFILES as readonly string[]).includes(name);
}

/** The reading plan for `path` under profile `name`; a file that does not fit says why. */
export function profilePlan(name: string, path: string, raw: string, opts: ProfileOptions = {}): ProfilePlan {
  if (!isProfile(name)) {
    throw new UnknownProfileError(name, PROFILES);
  }
  switch (name) {
    case "laketech":
      return laketech(path, raw);
    case "ysi":
      return ysi(path, raw, opts);
    case "usgs-rdb":
      return usgsRdb(path, raw);
    case "insitu":
      return { input: { format: "csv", csv: { nullString: "NA" } }, sql: "SELECT * FROM source" };
  }
}

const LAKETECH_HEADER = ["Timestamp", "Series Name", "Location", "Parameter", "Value", "Offset"];

/**
 * The columns are read typed and strictly (not sniffed), so a value that is not a number
 * fails naming its line, as DuckDB's reader reports it, instead of failing later in the pivot.
 */
function laketech(path: string, raw: string): ProfilePlan {
  const header = splitCsvLine(headLines(path, 1)[0] ?? "").map((h) => h.trim());
  if (header.join(",") !== LAKETECH_HEADER.join(",")) {
    throw new BadProfileFileError(raw, "a LakeTech export", `the header ${LAKETECH_HEADER.join(",")}`);
  }
  const types = ["TIMESTAMP", "VARCHAR", "VARCHAR", "VARCHAR", "DOUBLE", "DOUBLE"];
  return {
    input: { format: "csv", csv: { header: true, columns: LAKETECH_HEADER.map((n, i) => [n, types[i]!] as [string, string]) } },
    sql: `PIVOT (SELECT "Timestamp" AS timestamp, "Series Name" || '.' || "Parameter" AS name, "Value" - coalesce("Offset", 0) AS v FROM source) ON name USING first(v) GROUP BY timestamp ORDER BY timestamp`,
    timestampColumn: "timestamp",
  };
}

/** US zone abbreviations YSI software writes into file names; fixed offsets from UTC, hours. */
const ZONE_ABBREVIATIONS: Record<string, number> = {
  UTC: 0,
  GMT: 0,
  EST: -5,
  EDT: -4,
  CST: -6,
  CDT: -5,
  MST: -7,
  MDT: -6,
  PST: -8,
  PDT: -7,
  AKST: -9,
  AKDT: -8,
  HST: -10,
};

function ysi(path: string, raw: string, opts: ProfileOptions): ProfilePlan {
  const [header, units, first] = headLines(path, 3).map(splitCsvLine);
  if (!header || !units || header.length !== units.length || header[0] !== "Date" || header[1] !== "Time") {
    throw new BadProfileFileError(raw, "a YSI export", `"Date","Time",… and a units row under it`);
  }
  const year = (first?.[0] ?? "").split("/")[2]?.length === 4 ? "%Y" : "%y";
  const names = header.slice(2).map((n, i) => `${n}.${units[i + 2]}`);
  const local = `strptime("Date" || ' ' || "Time", '%m/%d/${year} %H:%M:%S')`;
  let ts: string;
  if (opts.timezone !== undefined) ts = `timezone('${opts.timezone.replaceAll("'", "''")}', ${local})`;
  else {
    const abbr = basename(path)
      .split(/[_.-]/)
      .find((p) => p in ZONE_ABBREVIATIONS);
    if (abbr === undefined) {
      throw new ProfileTimezoneError(raw);
    }
    ts = `timezone('UTC', ${local} - INTERVAL (${ZONE_ABBREVIATIONS[abbr]}) HOUR)`;
  }
  return {
    input: {
      format: "csv",
      csv: { header: false, skip: 2, columns: [["Date", "VARCHAR"], ["Time", "VARCHAR"], ...names.map((n) => [n, "DOUBLE"] as [string, string])] },
    },
    sql: `SELECT ${ts} AS timestamp, ${names.map((n) => `"${n.replaceAll('"', '""')}"`).join(", ")} FROM source ORDER BY timestamp`,
    timestampColumn: "timestamp",
  };
}

function usgsRdb(path: string, raw: string): ProfilePlan {
  const lines = headLines(path, 400);
  const at = lines.findIndex((l) => !l.startsWith("#"));
  const header = lines[at]?.split("\t");
  const types = lines[at + 1]?.split("\t");
  if (!header || !types || header.length !== types.length || !types.every((t) => /^\d+[sndt]$/.test(t))) {
    throw new BadProfileFileError(raw, "USGS RDB", "a tab-separated header and a type row like 5s 15s 20d 14n");
  }
  const cols: [string, string][] = header.map((n) => [n, "VARCHAR"]);
  const select = header.map((n, i) => {
    const q = `"${n.replaceAll('"', '""')}"`;
    const t = types[i]!.slice(-1);
    return t === "n" ? `TRY_CAST(${q} AS DOUBLE) AS ${q}` : t === "d" ? `CAST(${q} AS TIMESTAMP) AS ${q}` : q;
  });
  return { input: { format: "csv", csv: { header: false, skip: at + 2, delimiter: "\t", columns: cols } }, sql: `SELECT ${select.join(", ")} FROM source` };
}

function headLines(path: string, n: number): string[] {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    const got = readSync(fd, buf, 0, buf.length, 0);
    return buf
      .subarray(0, got)
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/)
      .slice(0, n);
  } finally {
    closeSync(fd);
  }
}

/** One CSV line's fields, quotes removed (the header rows of exports: no embedded newlines). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "",
    q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}
