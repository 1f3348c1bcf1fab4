import { parseDuration } from "@pond/steward";
import { commandLine, openPond } from "../context.ts";
import type { ArgsOf } from "../args.ts";
import type { serveCommand } from "../commands.ts";
import type { IO } from "../io.ts";

type Args = ArgsOf<typeof serveCommand>;

/**
 * `pond serve`: runs until SIGTERM or SIGINT, then stops accepting, lets requests in
 * flight finish, closes the parts (ingest flushes and commits) and exits 0. The server
 * itself is packages/serve/src/server.ts; this only reads the flags and the signals.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const { parseListen, resolveToken, ingestOptionsFrom, parseIdleTimeout, startServer } = await import("@pond/serve");
  const listen = parseListen(args.listen);
  const token = resolveToken(listen, args.token, io.env);
  const queryTimeoutMs = parseDuration("--query-timeout", args.queryTimeout);
  const idleTimeoutSeconds = args.idleTimeout === undefined ? undefined : parseIdleTimeout(args.idleTimeout);
  const ingest = ingestOptionsFrom(args);
  // A folder that is no pond is an error now, not a server answering 503 until stopped.
  const pondDir = openPond(args, io).dir;
  const server = await startServer({
    pondDir,
    listen,
    ...(token === undefined ? {} : { token }),
    queryTimeoutMs,
    ...(idleTimeoutSeconds === undefined ? {} : { idleTimeoutSeconds }),
    ingest,
    command: commandLine(args),
  });
  io.err.write(`pond serve: listening on ${server.url}\n`);
  const closed = await new Promise<{ error?: unknown }>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second signal while closing must not kill the process before the parts have flushed.
      io.err.write(stopping ? `pond serve: ${signal}: already closing\n` : `pond serve: ${signal}: finishing requests, closing\n`);
      if (stopping) return;
      stopping = true;
      server.close().then(
        () => resolve({}),
        (error: unknown) => resolve({ error }),
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
  // A part that could not flush and commit on the way out is this command's failure.
  if (closed.error !== undefined) throw closed.error;
  io.err.write("pond serve: stopped\n");
  return 0;
}
