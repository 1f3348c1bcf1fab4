import type { Stat, VersionInfo } from "@pond/tinyfs";
import { QuerySession, type TLogView } from "@pond/tlogfs";

/**
 * Columns and types of a table (its newest version) or a series (the union by name of
 * every version), the row count, and the series' time column.
 */
export async function describeSchema(view: TLogView, st: Stat, versions: VersionInfo[]): Promise<{ columns: { name: string; type: string }[]; rows: number; timestampColumn?: string }> {
  const chosen = st.entryType === "file:table" ? versions.slice(-1) : versions;
  const paths = chosen.map((v) => view.payloadPath(v)).filter((p): p is string => p !== undefined);
  const session = await QuerySession.open();
  try {
    const list = `[${paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(", ")}]`;
    const desc = await session.all(`DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name=true)`);
    const meta = await session.all(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${list})`);
    const ts = chosen[chosen.length - 1]?.attributes.timestamp_column;
    return {
      columns: desc.map((r) => ({ name: String(r.column_name), type: String(r.column_type) })),
      rows: Number(meta[0]?.n ?? 0),
      ...(typeof ts === "string" ? { timestampColumn: ts } : {}),
    };
  } finally {
    session.close();
  }
}
