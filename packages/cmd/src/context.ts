import { Pond, parseAsOf, resolvePondDir, type AsOf } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import type { TLogView } from "@pond/tlogfs";
import type { IO } from "./io.ts";

/** The pond named by --pond or $POND. */
export function openPond(args: Record<string, unknown>, io: IO): Pond {
  return Pond.open(resolvePondDir(args.pond as string | undefined, io.env));
}

/** The command line as recorded in the pond's history. */
export function commandLine(args: Record<string, unknown>): string[] {
  return ["pond", ...((args.argv as string[] | undefined) ?? [])];
}

export function asOfOption(args: Record<string, unknown>): AsOf | undefined {
  const v = args["as-of"] ?? args.asOf;
  return v === undefined ? undefined : parseAsOf(String(v));
}

/** A read-only working directory over the pond (as of --as-of when given). */
export async function readWD(pond: Pond, args: Record<string, unknown>): Promise<{ view: TLogView; wd: WD }> {
  const view = await pond.view(asOfOption(args));
  return { view, wd: new WD(view) };
}

/** Formats µs since the epoch as ISO 8601 UTC to the second. */
export function isoMicros(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString().replace(/\.\d{3}Z$/, "Z");
}
