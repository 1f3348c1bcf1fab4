import { convertWithSql, type CsvOptions, type PreparedParquet, type SqlIngestInput } from "@pond/tlogfs";
import { profilePlan } from "./import-profiles.ts";

/**
 * How a host file is reshaped on its way into the pond: a named profile or a user's
 * SELECT over `source`. `pond copy --profile/--sql` and `kind: inbox` both import through
 * `convertImport`, so an export reads the same way whichever of them stores it.
 */
export interface ImportRecipe {
  profile?: string;
  sql?: string;
  /** Zone of local times (the ysi profile; CSV reading for --sql). */
  timezone?: string;
  /** The event-time column, when the recipe does not name one. */
  timestampColumn?: string;
  /** Reader options for `sql:` over a CSV (sniffed where not given); a profile sets its own. */
  csv?: CsvOptions;
  /** The source is Parquet (host+series:), not CSV; only with `sql`. */
  parquet?: boolean;
}

/**
 * Reads host file `path` through `recipe` and writes the result to the Parquet file `out`
 * (the caller removes it). `raw` names the file in errors. With `series`, the result must
 * have an event-time column, and its range is returned.
 */
export async function convertImport(path: string, raw: string, recipe: ImportRecipe, out: string, series: boolean): Promise<PreparedParquet> {
  let input: SqlIngestInput = recipe.parquet
    ? { format: "parquet" }
    : { format: "csv", csv: { ...recipe.csv, timezone: recipe.csv?.timezone ?? recipe.timezone } };
  let sql = recipe.sql;
  let timestampColumn = recipe.timestampColumn;
  let firstZoned = false;
  if (recipe.profile !== undefined) {
    const plan = profilePlan(recipe.profile, path, raw, { timezone: recipe.timezone });
    input = plan.input;
    sql = plan.sql;
    timestampColumn ??= plan.timestampColumn;
    // insitu exports have no fixed name for their time column: the first one with a zone is it.
    firstZoned = recipe.profile === "insitu" && timestampColumn === undefined;
  }
  return convertWithSql(path, out, input, sql!, {
    series,
    timestampColumn,
    raw,
    firstZonedTimestamp: firstZoned,
    builtIn: recipe.profile !== undefined,
  });
}
