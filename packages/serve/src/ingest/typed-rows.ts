/**
 * Typing a request's rows for a series (see `typedRows`).
 */
import { IngestBadInputError } from "./errors.ts";
import type { IngestRequest } from "./ingester.ts";
import { convert, inferCsvType, inferType, pickTimeColumn, type IngestType } from "./schema.ts";

/**
 * A request's rows typed for a series: the columns (existing types, or inferred for new
 * ones), and each row as an array of values aligned with them (as the write-ahead record
 * and the buffer keep them). Throws IngestBadInputError naming the line and the column on
 * the first value that does not fit, a row without its time, or a new series without a
 * time column; nothing changes before.
 */
export function typedRows(
  req: Pick<IngestRequest, "records" | "unit" | "fromText" | "timestampColumn">,
  existing: ReadonlyMap<string, IngestType | `unsupported:${string}`>,
  existingTime: string | undefined,
): { timeColumn: string; cols: [string, IngestType][]; rows: unknown[][]; timeIdx: number } {
  const { records, unit, fromText } = req;
  // The columns of this request: existing types, or inferred for new ones.
  const names = new Set<string>();
  for (const r of records) for (const k in r.value) names.add(k);
  const timeColumn = existingTime ?? pickTimeColumn(names, req.timestampColumn);
  if (timeColumn === undefined) {
    throw new IngestBadInputError(
      undefined,
      `a new series needs a time column (one of timestamp, Timestamp, time, ts, datetime, event_time), and these rows have ${[...names].join(", ") || "no columns"}`,
      undefined,
      "Name it with ?timestamp=COLUMN (pond ingest --timestamp-column).",
    );
  }
  const types = new Map<string, IngestType>();
  for (const name of names) {
    const t = existing.get(name);
    if (t !== undefined) {
      if (t.startsWith("unsupported:")) {
        const rec = records.find((r) => r.value[name] !== null && r.value[name] !== undefined);
        if (rec)
          throw new IngestBadInputError(
            rec.line,
            `the series stores this column as ${t.slice(12)}, which ingest cannot write`,
            name,
            "Leave the column out, or write it with pond copy.",
            unit,
          );
        continue;
      }
      types.set(name, t as IngestType);
      continue;
    }
    let inferred: IngestType | undefined;
    for (const r of records) {
      const v = r.value[name];
      inferred = fromText ? inferCsvType(v as string | null, name === timeColumn) : inferType(v, name === timeColumn);
      if (inferred) break;
    }
    if (inferred) types.set(name, inferred);
  }
  // Each row as an array of values aligned with `cols` (as the write-ahead record and the buffer keep them).
  const cols = [...types];
  const timeIdx = cols.findIndex(([n]) => n === timeColumn);
  const rows: unknown[][] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const { line, value } = records[i]!;
    const vals = new Array(cols.length);
    for (let c = 0; c < cols.length; c++) vals[c] = convert(value[cols[c]![0]], cols[c]![1], line, cols[c]![0], fromText, unit);
    if (timeIdx < 0 || vals[timeIdx] === null)
      throw new IngestBadInputError(line, "has no time", timeColumn, `Every row of a series needs its time in "${timeColumn}".`, unit);
    rows[i] = vals;
  }
  return { timeColumn, cols, rows, timeIdx };
}
