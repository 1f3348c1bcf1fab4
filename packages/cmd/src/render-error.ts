import { EXIT_CODES, PondError } from "@pond/diagnostics";
import type { IO } from "./io.ts";

/**
 * The one place that decides how an error looks and which exit code it gets. A
 * PondError prints its message and hint; anything else is a bug and prints the stack.
 */
export function renderError(e: unknown, io: IO): number {
  if (e instanceof PondError) {
    io.err.write(`pond: ${e.message}\n`);
    if (e.hint) io.err.write(`  ${e.hint}\n`);
    return EXIT_CODES[e.kind];
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err.write(`pond: this is a bug: ${err.message}\n${err.stack ?? ""}\nPlease report it with the command you ran.\n`);
  return EXIT_CODES.bug;
}
