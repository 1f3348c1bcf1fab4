import { Pond, isAsOfText, parseAsOf, resolvePondDir, type AsOf } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import type { TLogView } from "@pond/tlogfs";
import { UsageError } from "./args.ts";
import type { IO } from "./io.ts";

/** The pond named by --pond or $POND. */
export function openPond(args: { pond: string | undefined }, io: IO): Pond {
  return Pond.open(resolvePondDir(args.pond, io.env));
}

/** The command line as recorded in the pond's history. */
export function commandLine(args: { argv: string[] }): string[] {
  return ["pond", ...args.argv];
}

/**
 * `--as-of`: a transaction sequence (a whole number ≥ 0) or an ISO 8601 date or time.
 * Checked here because `Date.parse` also accepts "-1" (year −1) and other non-ISO text.
 */
export function asOfOption(args: { asOf?: string | undefined }): AsOf | undefined {
  const v = args.asOf;
  if (v === undefined) return undefined;
  if (!isAsOfText(v)) {
    throw new UsageError(`--as-of "${v}" is neither a transaction sequence (0, 1, 2… from \`pond log\`) nor an ISO 8601 time like 2026-01-31T12:00:00Z`);
  }
  return parseAsOf(v);
}

/** A read-only working directory over the pond (as of --as-of when given). */
export async function readWD(pond: Pond, args: { asOf?: string | undefined }): Promise<{ view: TLogView; wd: WD }> {
  const view = await pond.view(asOfOption(args));
  return { view, wd: new WD(view) };
}

/** Formats µs since the epoch as ISO 8601 UTC to the second. */
export function isoMicros(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString().replace(/\.\d{3}Z$/, "Z");
}
