// The binary's entry point. `--version` answers before anything else is loaded, so it
// stays fast; everything else is imported lazily by the command registry.
import { VERSION } from "./version.ts";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`pond ${VERSION}\n`);
} else {
  const { main } = await import("./cli.ts");
  process.exitCode = await main(argv);
}
