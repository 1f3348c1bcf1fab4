// The binary's entry point. `--version` answers before anything else is loaded, so it
// stays fast; everything else is imported lazily by the command registry.
import { writeSync } from "node:fs";
import { VERSION } from "./version.ts";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  writeSync(1, `pond ${VERSION}\n`); // process.stdout costs ~25 ms to set up in a compiled binary
} else {
  const [{ main }, { markOneShotProcess }] = await Promise.all([import("./cli.ts"), import("@pond/diagnostics")]);
  markOneShotProcess(); // this process ends when the command returns
  process.exitCode = await main(argv);
  // A request to a remote that timed out cannot be cancelled (Bun's S3 client takes no
  // AbortSignal), and its socket would keep the process alive after the command has
  // ended. This timer does not keep it alive itself: it only fires if something else does.
  setTimeout(() => process.exit(), 200).unref();
}
