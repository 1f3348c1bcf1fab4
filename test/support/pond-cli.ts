import { join, resolve } from "node:path";
import { tempFolder, type TempFolder } from "./kit.ts";

/** The compiled binary under test (npm test sets POND_BIN; default bin/pond). */
export const POND_BIN = process.env.POND_BIN ?? resolve(import.meta.dir, "../../bin/pond");

export { FIXTURES } from "./fixtures.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stdoutBytes: Uint8Array;
  stderr: string;
}

/** Runs `bin/pond ARGS` as a user would, with POND set to `pond` when given. */
export async function pond(args: string[], opts: { pond?: string; env?: Record<string, string>; cwd?: string; stdin?: Uint8Array } = {}): Promise<RunResult> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...opts.env };
  delete env.POND;
  if (opts.pond) env.POND = opts.pond;
  const p = Bun.spawn([POND_BIN, ...args], { env, cwd: opts.cwd, stdin: opts.stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  const bytes = new Uint8Array(out);
  return { code, stdout: new TextDecoder().decode(bytes), stdoutBytes: bytes, stderr: err };
}

/** Like `pond`, but fails the test with the output when the exit code is not 0. */
export async function pondOk(args: string[], opts: Parameters<typeof pond>[1] = {}): Promise<RunResult> {
  const r = await pond(args, opts);
  if (r.code !== 0) throw new Error(`pond ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A fresh temp folder, removed by the returned cleanup (the kit's `tempFolder`, no files). */
export function tempDir(prefix = "pond-test-"): TempFolder {
  return tempFolder({}, prefix);
}

/** A new pond in a temp folder. */
export async function newPond(): Promise<{ dir: string; pondDir: string; cleanup(): void }> {
  const t = tempDir();
  const pondDir = join(t.dir, "pond");
  await pondOk(["init", "--pond", pondDir]);
  return { dir: t.dir, pondDir, cleanup: t.cleanup };
}

/** The data log's newest version, read straight from the folder (no pond code involved). */
export async function latestLogVersion(pondDir: string): Promise<number> {
  const names = (await Array.fromAsync(new Bun.Glob("*.json").scan(join(pondDir, "data", "_delta_log")))).filter((n) => /^\d{20}\.json$/.test(n));
  return Math.max(...names.map((n) => Number(n.slice(0, 20))));
}
