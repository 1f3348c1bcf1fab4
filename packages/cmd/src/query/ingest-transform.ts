import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AdoptableFile, type PreparedParquet } from "@pond/tlogfs";
import type { Endpoint } from "../endpoint.ts";
import { csvOptions, type CsvArgs } from "./cat-rows.ts";
import { UsageError } from "../errors.ts";

type TransformArgs = CsvArgs & { timestampColumn?: string | undefined; sql?: string | undefined; profile?: string | undefined };

type HostEndpoint = Extract<Endpoint, { kind: "host" }>;

/** True when a copy-in reshapes its source: `--sql` or `--profile`. */
export function wantsTransform(args: TransformArgs): boolean {
  return args.sql !== undefined || args.profile !== undefined;
}

/**
 * `pond copy host+csv:…|host+series+csv:…|host+series:… DEST --sql "SELECT … FROM source"`
 * or `--profile NAME`: the file as read is `source`, the query's result is stored.
 */
export async function prepareTransform(
  src: HostEndpoint,
  args: TransformArgs,
  stagingDir: string,
): Promise<{ prepared: PreparedParquet; content: AsyncIterable<Uint8Array>; cleanup: () => void }> {
  if (args.sql !== undefined && args.profile !== undefined) throw new UsageError("Give --sql or --profile, not both", "copy");
  if (src.format === "data" || src.format === "delta" || src.format === "table") {
    throw new UsageError(
      `--sql and --profile reshape CSV (host+csv:, host+series+csv:) or series Parquet (host+series:); "${src.raw}" is host+${src.format}:`,
      "copy",
    );
  }
  const series = src.format === "series" || src.format === "series+csv";
  if (args.profile !== undefined && src.format === "series") {
    throw new UsageError("--profile reads CSV exports; use host+series+csv: or host+csv:", "copy");
  }
  const { convertImport } = await import("@pond/collect");
  mkdirSync(stagingDir, { recursive: true });
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const out = join(stagingDir, `.tmp-sql-${crypto.randomUUID()}`);
  const cleanup = () => rmSync(out, { force: true });
  try {
    const prepared = await convertImport(
      src.path,
      src.raw,
      {
        profile: args.profile === undefined ? undefined : String(args.profile),
        sql: args.sql,
        timezone: args.timezone,
        timestampColumn: args.timestampColumn,
        csv: csvOptions(args),
        parquet: src.format === "series",
      },
      out,
      series,
    );
    return { prepared, content: new AdoptableFile(out), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
