/**
 * Change data capture into a table: events `{sequence, operation, rowId, before, after}`
 * from one source, applied in sequence order to the table's rows.
 *
 * Ordering contract: sequences are consecutive integers from 1 per destination (as a
 * source's log position counter gives them). An event whose sequence the table already
 * applied (recorded as `cdc_sequence` on its newest version), or that is already
 * buffered, is a duplicate and is dropped (counted as deduplicated). Events that arrive
 * out of order wait in the buffer (and the write-ahead file) until the gap before them is
 * filled; a flush applies the contiguous run after the last applied sequence and leaves
 * the rest waiting. So repeats and reorderings of a stream give the same table.
 *
 * The table holds the rows' `after` values plus `_row_id` (the event's rowId as text),
 * which later events use to find their row. INSERT of an existing rowId replaces it (as
 * an upsert), UPDATE of a missing one inserts it, DELETE of a missing one does nothing.
 */
import { IngestBadInputError } from "./errors.ts";
import type { RawRecord } from "./body.ts";

export const ROW_ID = "_row_id";

export type Operation = "INSERT" | "UPDATE" | "DELETE";

export interface CdcEvent {
  sequence: number;
  operation: Operation;
  rowId: string;
  after?: Record<string, unknown>;
}

/** True when a record is shaped as a CDC event (it has `operation` and `sequence`). */
export function isCdcRecord(v: Record<string, unknown>): boolean {
  return "operation" in v && "sequence" in v;
}

/** Checks and normalizes CDC events; IngestBadInputError naming the line on the first bad one. */
export function parseEvents(records: readonly RawRecord[], unit: string): CdcEvent[] {
  return records.map(({ line, value: v }) => {
    const bad = (problem: string, column?: string): never => {
      throw new IngestBadInputError(line, problem, column, "A CDC event is {sequence, operation: INSERT|UPDATE|DELETE, rowId, before, after}.", unit);
    };
    if (!isCdcRecord(v)) bad("is not a CDC event (it has no operation and sequence) in a batch of events");
    const seq = typeof v.sequence === "string" && /^\d+$/.test(v.sequence) ? Number(v.sequence) : v.sequence;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) bad(`sequence ${JSON.stringify(v.sequence)} is not a whole number ≥ 1`, "sequence");
    const op = typeof v.operation === "string" ? v.operation.toUpperCase() : v.operation;
    if (op !== "INSERT" && op !== "UPDATE" && op !== "DELETE") bad(`operation ${JSON.stringify(v.operation)} is not INSERT, UPDATE or DELETE`, "operation");
    const rowId = v.rowId;
    if (typeof rowId !== "string" && typeof rowId !== "number") bad("rowId must be a string or a number", "rowId");
    const after = v.after;
    if (op !== "DELETE" && (typeof after !== "object" || after === null || Array.isArray(after)))
      bad(`${op} needs an "after" object of column values`, "after");
    if (after && typeof after === "object" && ROW_ID in after) bad(`"after" may not hold the column ${ROW_ID}: the table keeps rowId there`, "after");
    return {
      sequence: seq as number,
      operation: op as Operation,
      rowId: String(rowId),
      ...(op !== "DELETE" ? { after: after as Record<string, unknown> } : {}),
    };
  });
}

/**
 * Applies the contiguous run of `pending` events after `applied` to `rows` (by rowId),
 * removing them from `pending`. Returns the new last applied sequence and how many
 * events were applied.
 */
export function applyContiguous(
  rows: Map<string, Record<string, unknown>>,
  pending: Map<number, CdcEvent>,
  applied: number,
): { applied: number; count: number } {
  let next = applied + 1;
  let count = 0;
  for (;;) {
    const e = pending.get(next);
    if (!e) break;
    pending.delete(next);
    if (e.operation === "DELETE") rows.delete(e.rowId);
    else rows.set(e.rowId, { ...e.after, [ROW_ID]: e.rowId });
    next++;
    count++;
  }
  return { applied: next - 1, count };
}

/** The first missing sequence when events wait behind a gap, else undefined. */
export function gapOf(pending: Map<number, CdcEvent>, applied: number): number | undefined {
  return pending.size > 0 && !pending.has(applied + 1) ? applied + 1 : undefined;
}
