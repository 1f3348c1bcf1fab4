import { PondError } from "@pond/diagnostics";
import type { IO } from "../io.ts";

// Rows of tables and series arrive with the SQL layer (issue 4). Until then a clear error.
function notYet(): never {
  throw new PondError("not_supported", "Reading tables and series as rows is not supported by this build yet", {
    hint: "Use --format parquet to get the stored Parquet bytes.",
  });
}
export async function catRows(_view: unknown, _st: unknown, _args: Record<string, unknown>, _io: IO): Promise<number> { notYet(); }
export async function catHost(_t: unknown, _args: Record<string, unknown>, _io: IO): Promise<number> { notYet(); }
