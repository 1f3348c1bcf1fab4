import type { ArgsOf } from "../args.ts";
import type { exportCommand } from "../commands.ts";
import { asOfOption, openPond } from "../context.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { IO } from "../io.ts";
import { timeRange } from "@pond/tlogfs";
import { UsageError } from "../errors.ts";

type Args = ArgsOf<typeof exportCommand>;

/** `pond export PATTERN host:///dir`: see packages/present/src/export.ts. */
export async function run(args: Args, io: IO): Promise<number> {
  const dest = parseEndpoint(args.dest, io.cwd);
  if (dest.kind !== "host" || dest.format !== "data") {
    throw new UsageError(`The destination "${args.dest}" must be a host folder`, "export", "Write host:///absolute/dir or host:relative/dir.");
  }
  const pond = openPond(args, io);
  const { exportData } = await import("@pond/present");
  const report = await exportData(pond, args.pattern, dest.path, {
    format: args.format as "parquet" | "csv",
    partition: args.partition as "year" | "month" | "day" | undefined,
    range: timeRange(args),
    asOf: asOfOption(args),
  });
  if (args.report === "json") {
    io.out.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    for (const f of report.files) io.out.write(`${f.path}\t${f.bytes}\n`);
    io.err.write(
      `exported ${report.sources.length} source(s) to ${report.dest}: ${report.files.length} file(s), ${report.files.reduce((n, f) => n + f.bytes, 0)} bytes${report.removed.length ? `; removed ${report.removed.length} file(s) of the previous export` : ""}\n`,
    );
  }
  return 0;
}
