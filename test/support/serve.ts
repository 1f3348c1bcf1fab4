/**
 * `pond serve` as a user runs it: the compiled binary on 127.0.0.1 (or 0.0.0.0), port 0,
 * the bound address read from its stderr line `pond serve: listening on http://…`.
 */
import type { Subprocess } from "bun";
import { POND_BIN } from "./pond-cli.ts";

export interface ServeProcess {
  /** `http://127.0.0.1:PORT`, reachable from the test (a 0.0.0.0 bind is reached on 127.0.0.1). */
  readonly url: string;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `pond serve --listen 127.0.0.1:0 ARGS` on `pondDir`; fails with its stderr when it does not come up within 20 s. */
export async function startServe(pondDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const full: Record<string, string> = { ...(process.env as Record<string, string>), ...env, POND: pondDir };
  const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
  const proc = Bun.spawn([POND_BIN, "serve", ...listen, ...args], { env: full, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let err = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  void reading;
  const deadline = Date.now() + 20_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /listening on (http:\/\/\S+)/.exec(err))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`pond serve did not start (exit ${proc.exitCode}): ${err}`);
    }
    await Bun.sleep(20);
  }
  const url = m[1]!.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://127.0.0.1:");
  return {
    url,
    proc,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      await reading;
      return code;
    },
  };
}

/** The samples of a Prometheus text exposition: `name{labels}` → value. */
export function promSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
