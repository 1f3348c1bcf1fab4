import type { Stat, VersionInfo } from "@pond/tinyfs";
import { QuerySession, VERSION_COLUMN, type TLogView } from "@pond/tlogfs";

export interface Schema {
  columns: { name: string; type: string }[];
  rows: number;
  timestampColumn?: string;
}

/**
 * Columns and types of a table (its newest version) or a series (the union by name of
 * every version), the row count, and the series' time column. When every version
 * recorded the same columns and its row count at ingest (pond always does; DuckDB
 * found them), those are the answer and DuckDB is not started: that took ~100 ms for
 * any table, and ~250 ms more to read the footers of a 1,000-version series. Otherwise
 * DuckDB reads the footers (`describeFromPayloads`).
 */
export async function describeSchema(view: TLogView, st: Stat, versions: VersionInfo[]): Promise<Schema> {
  const chosen = st.entryType === "file:table" ? versions.slice(-1) : versions;
  return recordedSchema(chosen) ?? (await describeFromPayloads(view, chosen));
}

/** The schema the versions recorded at ingest, when they all recorded the same columns and a row count. */
export function recordedSchema(chosen: VersionInfo[]): Schema | undefined {
  let first: { columns: Schema["columns"]; key: string } | undefined;
  let rows = 0;
  for (const v of chosen) {
    const { columns, rows: n } = v.attributes;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return undefined;
    if (!Array.isArray(columns) || !columns.every((c) => typeof c?.name === "string" && typeof c?.type === "string")) return undefined;
    const cols = columns.map((c: { name: string; type: string }) => ({ name: c.name, type: c.type }));
    // Ingest recorded node-api's type text; DESCRIBE's differs for named nested types
    // (it quotes a field named like a keyword: STRUCT("string" VARCHAR)). Those are left to DuckDB.
    if (cols.some((c) => /STRUCT|MAP|UNION/.test(c.type))) return undefined;
    const key = JSON.stringify(cols);
    if (first === undefined) first = { columns: cols, key };
    else if (key !== first.key) return undefined; // versions differ: DuckDB unions them by name
    rows += n;
  }
  return first && { columns: first.columns, rows, ...timestampOf(chosen) };
}

/** The schema read from the payloads' footers by DuckDB. */
export async function describeFromPayloads(view: TLogView, chosen: VersionInfo[]): Promise<Schema> {
  // Where each version's rows are: its own payload, or a merged file holding several (read once).
  const stored = new Map<string, { hostPath: string; sha256: string; size: number; label: string; merged: boolean }>();
  for (const v of chosen) {
    const s = view.storedPayload(v);
    const hostPath = view.payloadPath(v);
    if (hostPath === undefined || (s.mergedVersion !== undefined && stored.has(hostPath))) continue;
    stored.set(s.mergedVersion === undefined ? `${v.version}` : hostPath, {
      hostPath,
      sha256: s.sha256,
      size: s.size,
      label: `version ${v.version}`,
      merged: s.mergedVersion !== undefined,
    });
  }
  const files = [...stored.values()];
  // DuckDB reads the footers in place: check them against the log first, as every read does.
  view.checkPayloads(files);
  const session = await QuerySession.open();
  try {
    const list = `[${files.map((f) => `'${f.hostPath.replaceAll("'", "''")}'`).join(", ")}]`;
    const hide = files.some((f) => f.merged) ? ` EXCLUDE (${VERSION_COLUMN})` : "";
    const desc = await session.all(`DESCRIBE SELECT *${hide} FROM read_parquet(${list}, union_by_name=true)`);
    const meta = await session.all(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${list})`);
    return {
      columns: desc.map((r) => ({ name: String(r.column_name), type: String(r.column_type) })),
      rows: Number(meta[0]?.n ?? 0),
      ...timestampOf(chosen),
    };
  } finally {
    session.close();
  }
}

function timestampOf(chosen: VersionInfo[]): { timestampColumn?: string } {
  const ts = chosen[chosen.length - 1]?.attributes.timestamp_column;
  return typeof ts === "string" ? { timestampColumn: ts } : {};
}
