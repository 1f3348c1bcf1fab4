import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileDurable } from "@pond/oplog";
import type { ArgsOf } from "../args.ts";
import type { chartCommand } from "../commands.ts";
import { asOfOption, openPond } from "../context.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { IO } from "../io.ts";
import { timeRange } from "@pond/tlogfs";
import { UsageError } from "../errors.ts";

type Args = ArgsOf<typeof chartCommand>;

/** `pond chart PATH --out host:///x.svg|x.png`: see packages/present/src/chart.ts. */
export async function run(args: Args, io: IO): Promise<number> {
  if (args.out === undefined) {
    throw new UsageError("pond chart needs --out host:///file.svg or host:///file.png", "chart", "e.g. pond chart /st/lake.series --out host:lake.svg");
  }
  const out = parseEndpoint(args.out, io.cwd);
  const kind = /\.(svg|png)$/i.exec(out.kind === "host" ? out.path : "")?.[1]?.toLowerCase();
  if (out.kind !== "host" || out.format !== "data" || !kind) {
    throw new UsageError(
      `--out "${args.out}" must be a host file ending in .svg or .png`,
      "chart",
      "Write host:///absolute/chart.svg or host:relative/chart.png.",
    );
  }
  if (args.width > 8000) throw new UsageError(`--width ${args.width} is more than 8000 pixels`, "chart", "Give --width 200 to 8000.");
  const columns = args.columns
    ?.split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  const pond = openPond(args, io);
  const { chartSvg } = await import("@pond/present");
  const chart = await chartSvg(pond, args.path, { columns, range: timeRange(args), width: args.width, title: args.title, asOf: asOfOption(args) });
  let bytes: string | Uint8Array = chart.svg;
  if (kind === "png") {
    const { svgToPng } = await import("@pond/present/png");
    bytes = await svgToPng(chart.svg);
  }
  mkdirSync(dirname(out.path), { recursive: true });
  // Written beside the target and renamed over it: a reader never sees half a picture.
  writeFileDurable(out.path, bytes);
  io.err.write(
    `wrote ${out.path}: ${chart.rows} rows drawn as ${chart.points} points, ${typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length} bytes\n`,
  );
  return 0;
}
