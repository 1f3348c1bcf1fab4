import { ArgSpec, UsageError, commandHelp, parseArgs, topHelp } from "./args.ts";
import { COMMANDS } from "./commands.ts";
import { processIO, type IO } from "./io.ts";
import { renderError } from "./render-error.ts";
import { VERSION } from "./version.ts";

/**
 * Parses `argv`, runs the command, and returns the exit code: 0 success, 1 a user
 * error, 2 bad usage, 3 locked/conflict, 4 integrity, 70 a bug.
 */
export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) throw new UsageError("Name a command; `pond --help` lists them.");
    if (first === "--help" || first === "-h" || first === "help") {
      io.out.write(topHelp(COMMANDS));
      return 0;
    }
    if (first === "--version" || first === "-V") {
      io.out.write(`pond ${VERSION}\n`);
      return 0;
    }
    const spec = COMMANDS.find((c) => c.command.split(" ")[0] === first || c.aliases?.includes(first));
    if (!spec) throw new UsageError(first.startsWith("-") ? `Unknown argument: ${first}` : `Unknown command: ${first}`);
    const name = spec.command.split(" ")[0]!;
    const declared = spec.builder(new ArgSpec());
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out.write(commandHelp(spec.command, spec.describe, spec.aliases, declared));
      return 0;
    }
    const args = parseArgs(name, spec.command, declared, rest);
    const mod = await spec.load();
    return (await mod.run({ ...args, argv }, io)) ?? 0;
  } catch (e) {
    return renderError(e, io);
  }
}
