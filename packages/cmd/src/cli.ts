import { UsageError, closest, commandHelp, parseCommand, splitCommand, topHelp, wantsHelp } from "./args.ts";
import { COMMANDS, findCommand, type CommandModule } from "./commands.ts";
import { processIO, type IO } from "./io.ts";
import { renderError } from "./render-error.ts";
import { VERSION } from "./version.ts";

/**
 * Parses `argv`, runs the command, and returns the exit code: 0 success, 1 a user
 * error, 2 bad usage, 3 locked/conflict, 4 integrity, 70 a bug.
 */
export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  try {
    if (argv[0] === "__complete") {
      // Called by the scripts of `pond completion SHELL` on every Tab.
      const { complete } = await import("./completion.ts");
      io.out.write(complete(argv.slice(1)).join("\n") + "\n");
      return 0;
    }
    const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    const { command, words, version } = splitCommand(argv, names);
    if (command === undefined) {
      if (version) {
        io.out.write(`pond ${VERSION}\n`);
        return 0;
      }
      if (words.includes("--help") || words.includes("-h")) {
        io.out.write(topHelp(COMMANDS, helpWidth(io)));
        return 0;
      }
      throw new UsageError("Name a command; `pond --help` lists them.");
    }
    if (command === "help") {
      const about = words.find((w) => !w.startsWith("-"));
      const decl = about === undefined ? undefined : findCommand(about);
      if (about !== undefined && !decl) throw unknownCommand(about, names);
      io.out.write(decl ? commandHelp(decl, helpWidth(io)) : topHelp(COMMANDS, helpWidth(io)));
      return 0;
    }
    const decl = findCommand(command);
    if (!decl) throw unknownCommand(command, names);
    if (wantsHelp(decl, words)) {
      io.out.write(commandHelp(decl, helpWidth(io)));
      return 0;
    }
    // The history records the command line as typed.
    const args = { ...parseCommand(decl, words), argv };
    const mod = (await decl.load()) as CommandModule;
    return (await mod.run(args as never, io)) ?? 0;
  } catch (e) {
    return renderError(e, io);
  }
}

function unknownCommand(word: string, names: string[]): UsageError {
  const near = closest(word, names);
  return new UsageError(`Unknown command "${word}"${near ? `; did you mean \`pond ${near}\`?` : ""}`);
}

/** Help is wrapped to the terminal: $COLUMNS, else the terminal's width, else 80. */
function helpWidth(io: IO): number {
  const env = Number(io.env.COLUMNS);
  if (Number.isInteger(env) && env > 20) return env;
  if (io.outIsTTY) return Math.max(40, process.stdout.columns ?? 80);
  return 80;
}
