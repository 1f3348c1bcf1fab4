import type { ArgsOf } from "../args.ts";
import type { exportCommand } from "../commands.ts";
import { asOfOption, openPond } from "../context.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { IO } from "../io.ts";
import { timeRange } from "@pond/tlogfs";
import { findRemote, listRemotes, locationFromFlags, openRemoteStore } from "@pond/steward";
import type { ObjectStore } from "@pond/oplog";
import { UsageError } from "../errors.ts";
import { credentialOptions } from "../remote-cli.ts";

type Args = ArgsOf<typeof exportCommand>;

/** `pond export PATTERN host:///dir | s3://bucket/prefix`: see packages/present/src/export.ts. */
export async function run(args: Args, io: IO): Promise<number> {
  const s3 = args.dest.startsWith("s3://");
  const remoteFlags = (["endpoint", "region", "accessKeyId", "secretAccessKey", "sessionToken", "remote"] as const).filter((k) => args[k] !== undefined);
  let hostDir: string | undefined;
  if (!s3) {
    const dest = parseEndpoint(args.dest, io.cwd);
    if (dest.kind !== "host" || dest.format !== "data") {
      throw new UsageError(
        `The destination "${args.dest}" must be a host folder or an S3 URL`,
        "export",
        "Write host:///absolute/dir, host:relative/dir or s3://bucket/prefix.",
      );
    }
    if (remoteFlags.length) {
      throw new UsageError(
        `--${remoteFlags[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to an s3:// destination, not the host folder "${args.dest}"`,
        "export",
        "Drop the option, or export to s3://bucket/prefix.",
      );
    }
    hostDir = dest.path;
  }
  const pond = openPond(args, io);
  let dest: string | ObjectStore;
  if (hostDir !== undefined) dest = hostDir;
  else {
    // --remote NAME: the endpoint, region and credential references of a configured remote; flags override them.
    const base = args.remote === undefined ? undefined : findRemote(listRemotes(pond), args.remote);
    const loc = locationFromFlags(args.dest, { endpoint: args.endpoint, region: args.region, credentials: credentialOptions(args) }, base);
    dest = openRemoteStore(loc.url, loc, io.env);
  }
  const { exportData } = await import("@pond/present");
  const report = await exportData(pond, args.pattern, dest, {
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
