import yargs from "yargs";
import { COMMANDS } from "./commands.ts";
import { processIO, type IO } from "./io.ts";
import { renderError } from "./render-error.ts";

/**
 * Parses `argv`, runs the command, and returns the exit code: 0 success, 1 a user
 * error, 2 bad usage, 3 locked/conflict, 4 integrity, 70 a bug.
 */
export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  let code = 0;
  let usageError: string | undefined;
  const y = yargs(argv)
    .scriptName("pond")
    .version(false) // `pond --version` is answered in main.ts; `cat --version N` is an option
    .help()
    .alias("h", "help")
    .strict()
    .demandCommand(1, "Name a command; `pond --help` lists them.")
    .option("pond", { type: "string", global: true, describe: "The pond folder (default: $POND)" })
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      usageError = msg;
    });
  // Building every command's options costs ~25 ms at start-up; when the first word names
  // a command, only that one is registered (top-level help and typos still see all).
  const named = COMMANDS.filter((c) => c.command.split(" ")[0] === argv[0] || c.aliases?.includes(argv[0] ?? ""));
  for (const spec of named.length === 1 ? named : COMMANDS) {
    y.command({
      command: spec.command,
      aliases: spec.aliases,
      describe: spec.describe,
      builder: spec.builder,
      handler: async (args) => {
        const mod = await spec.load();
        code = (await mod.run({ ...args, argv }, io)) ?? 0;
      },
    });
  }
  try {
    await y.parseAsync();
  } catch (e) {
    return renderError(e, io);
  }
  if (usageError !== undefined) {
    io.err.write(`pond: ${usageError}\n  Run \`pond --help\` (or \`pond COMMAND --help\`) for usage.\n`);
    return 2;
  }
  return code;
}
