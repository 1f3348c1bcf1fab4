import { silentProgress, terminalProgress } from "@pond/diagnostics";
import type { ArgsOf } from "../args.ts";
import type { siteCommand } from "../commands.ts";
import { asOfOption, openPond } from "../context.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { IO } from "../io.ts";
import { UsageError } from "../errors.ts";

type Args = ArgsOf<typeof siteCommand>;

/** `pond site build host:///dir`: see packages/present/src/site-build.ts. */
export async function run(args: Args, io: IO): Promise<number> {
  const dest = parseEndpoint(args.dest, io.cwd);
  if (dest.kind !== "host" || dest.format !== "data") {
    throw new UsageError(
      `The destination "${args.dest}" must be a host folder`,
      "site",
      "Write host:///absolute/dir or host:relative/dir, e.g. pond site build host:///var/www/station.",
    );
  }
  const pond = openPond(args, io);
  const { buildSite } = await import("@pond/present");
  const report = await buildSite(pond, dest.path, { asOf: asOfOption(args), progress: io.errIsTTY ? terminalProgress("site build") : silentProgress });
  if (args.format === "json") {
    io.out.write(JSON.stringify(report, null, 2) + "\n");
    return 0;
  }
  for (const s of report.series) {
    const levels = s.levels.map((l) => `${l.id} ${l.rows} rows`).join(", ");
    io.out.write(`${s.page}\t${s.path}\t${s.rows} rows\topens at ${s.defaultLevel} (${s.defaultBytes} bytes)\t${levels}\n`);
    for (const w of s.warnings) io.err.write(`warning: ${s.path}: ${w}\n`);
  }
  io.err.write(`built ${report.dest}/index.html: ${report.series.length} series, ${report.files} files, ${report.bytes} bytes\n`);
  return 0;
}
