/**
 * A real S3 server for tests: s3rver, run by Node (`--openssl-legacy-provider`) as a
 * child process on 127.0.0.1, storing its objects in a temp folder. It can be killed
 * and started again on the same port with the same objects (the mid-push fault test),
 * or paused (SIGSTOP) to play a server that accepts connections and never answers.
 * s3rver checks access key ids but not signatures: S3RVER / S3RVER are the only
 * valid credentials. See s3rver-child.cjs for what it changes to behave like S3.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { Subprocess } from "bun";

export interface S3Server {
  readonly bucket: string;
  /** The port, fixed for the server's lifetime (restarts reuse it). */
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** The folder s3rver keeps its buckets in. */
  readonly dir: string;
  /** The server process's id while it runs (benchmarks pin it to a core), else undefined. */
  readonly pid: number | undefined;
  /** Credentials s3rver accepts, as environment variables. */
  readonly env: Record<string, string>;
  /** Kills the server at once (SIGKILL): requests in flight fail, the objects stay. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same objects. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the port stays open and nothing answers. */
  pause(): void;
  resume(): void;
  /** The host file that holds `key`'s bytes (to tamper with an object by hand). */
  objectFile(key: string): string;
  /** Every key in the bucket, read from s3rver's folder (works while it is stopped). */
  keys(): string[];
  /** Stops the server and deletes its folder. */
  close(): Promise<void>;
}

const CHILD = join(import.meta.dir, "s3rver-child.cjs");
const OBJECT_SUFFIX = "._S3rver_object";

/** Starts s3rver with one empty bucket. `conditionalWrites` makes it honour `If-None-Match: *`. */
export async function startS3Server(opts: { bucket?: string; conditionalWrites?: boolean } = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? "pond-test";
  const dir = mkdtempSync(join(tmpdir(), "pond-s3rver-"));
  const node = findNode();
  let proc: Subprocess<"pipe", "pipe", "pipe"> | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = [node, "--openssl-legacy-provider", CHILD, dir, String(port), bucket];
    if (opts.conditionalWrites) args.push("--conditional-writes");
    // stdin stays open for the child's lifetime: it exits when this process goes away.
    const p = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    proc = p;
    const reader = p.stdout.getReader();
    let text = "";
    const deadline = Date.now() + 15_000;
    while (!/listening (\d+)\n/.test(text)) {
      const timer = Bun.sleep(Math.max(0, deadline - Date.now())).then(() => "timeout" as const);
      const r = await Promise.race([reader.read(), timer]);
      if (r === "timeout" || r.done) {
        p.kill("SIGKILL");
        throw new Error(`s3rver did not start: ${await new Response(p.stderr).text()}`);
      }
      text += new TextDecoder().decode(r.value);
    }
    reader.releaseLock();
    port = Number(/listening (\d+)/.exec(text)![1]);
  };

  await launch();
  const server: S3Server = {
    bucket,
    get port() {
      return port;
    },
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get pid() {
      return proc?.pid;
    },
    dir,
    env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" },
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill("SIGCONT");
      p.kill("SIGKILL");
      await p.exited;
    },
    async start() {
      if (proc) throw new Error("s3rver is already running");
      // The port was just freed; another process could take it, so retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await Bun.sleep(200);
        }
      }
    },
    pause() {
      proc?.kill("SIGSTOP");
    },
    resume() {
      proc?.kill("SIGCONT");
    },
    objectFile(key: string) {
      return join(dir, bucket, key + OBJECT_SUFFIX);
    },
    keys() {
      const root = join(dir, bucket);
      if (!existsSync(root)) return [];
      const out: string[] = [];
      for (const f of new Bun.Glob("**/*" + OBJECT_SUFFIX).scanSync({ cwd: root, dot: true })) out.push(f.slice(0, -OBJECT_SUFFIX.length));
      return out.sort();
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * The real Node binary. Under `bun run`, PATH may start with a folder whose `node` is
 * Bun itself; s3rver is meant for Node, so skip those.
 */
function findNode(): string {
  if (process.env.POND_TEST_NODE) return process.env.POND_TEST_NODE;
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (d === "" || d.includes("bun-node")) continue;
    const candidate = join(d, "node");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("Node is needed to run s3rver for the tests, and `node` is not on PATH");
}
