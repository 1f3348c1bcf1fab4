// Shared helpers for benchmarks: run a command, time it, read its peak RSS. Every
// benchmark compares against a baseline measured in the same run, because this
// machine is shared and noisy: ratios, not absolute times, are the result.
import { resolve } from "node:path";

export const POND_BIN = process.env.POND_BIN ?? resolve(import.meta.dir, "../bin/pond");

export interface Run {
  ms: number;
  /** The child's user + system CPU time: on a loaded machine, what it cost itself. */
  cpuMs: number;
  maxRssMiB: number;
  code: number;
}

/** Runs argv (stdout to a file or /dev/null), returning wall time and the child's peak RSS. */
export async function run(argv: string[], opts: { env?: Record<string, string>; stdout?: string; shell?: boolean } = {}): Promise<Run> {
  const cmd = opts.shell ? ["bash", "-c", argv.join(" ")] : argv;
  const t0 = performance.now();
  const p = Bun.spawn(cmd, {
    env: { ...(process.env as Record<string, string>), ...opts.env },
    stdout: opts.stdout ? Bun.file(opts.stdout) : "ignore",
    stderr: "pipe",
  });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
  const ru = p.resourceUsage();
  const cpuMs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 : NaN; // µs
  return { ms, cpuMs, maxRssMiB: ru ? Number(ru.maxRSS) / (1024 * 1024) : NaN /* Bun reports maxRSS in bytes */, code };
}

/** The median of `n` runs of `fn` (after `warm` unmeasured runs). */
export async function median(n: number, fn: () => Promise<Run>, warm = 1): Promise<Run> {
  for (let i = 0; i < warm; i++) await fn();
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) runs.push(await fn());
  runs.sort((a, b) => a.ms - b.ms);
  const mid = runs[Math.floor(runs.length / 2)]!;
  return { ...mid, maxRssMiB: Math.max(...runs.map((r) => r.maxRssMiB)) };
}

/** Prints one result line and returns whether it met its target. */
export function report(name: string, value: number, target: number, unit: string, lowerIsBetter = true): boolean {
  const ok = lowerIsBetter ? value <= target : value >= target;
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}: ${value.toFixed(unit === "x" ? 2 : 1)}${unit} (target ${lowerIsBetter ? "≤" : "≥"} ${target}${unit})`);
  return ok;
}

/**
 * Medians of several commands measured in turns: one unmeasured run of each, then `n`
 * rounds running each once, in an order that rotates. On a shared machine a burst of
 * background work (writeback of files a benchmark just wrote) then lands on all of them
 * alike instead of on whichever ran during it. `before` runs (untimed) before each one.
 */
export async function interleaved<K extends string>(
  n: number,
  fns: Record<K, () => Promise<Run>>,
  opts: { before?: () => void } = {},
): Promise<Record<K, Interleaved>> {
  const names = Object.keys(fns) as K[];
  const runs = Object.fromEntries(names.map((k) => [k, [] as Run[]])) as Record<K, Run[]>;
  for (const k of names) await fns[k]();
  for (let i = 0; i < n; i++) {
    const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)];
    for (const k of order) {
      opts.before?.();
      runs[k].push(await fns[k]());
    }
  }
  const out = {} as Record<K, Interleaved>;
  for (const k of names) {
    const sorted = runs[k].slice().sort((a, b) => a.ms - b.ms);
    out[k] = {
      ...sorted[Math.floor(sorted.length / 2)]!,
      maxRssMiB: Math.max(...runs[k].map((r) => r.maxRssMiB)),
      cpuMedianMs: medianOf(runs[k].map((r) => r.cpuMs)),
      rounds: runs[k],
    };
  }
  return out;
}

/** One command's result from `interleaved`: its median run (by wall time), with every round kept. */
export interface Interleaved extends Run {
  /** The median of the rounds' CPU times (not the CPU time of the median run). */
  cpuMedianMs: number;
  /** Each measured round, in order: round i of two commands ran back to back. */
  rounds: Run[];
}

/** The median of the per-round ratios a[i] / b[i] of two interleaved commands (wall and CPU). */
export function roundRatios(a: Interleaved, b: Interleaved): { wall: number; cpu: number; walls: number[] } {
  const walls = a.rounds.map((r, i) => r.ms / b.rounds[i]!.ms);
  return { wall: medianOf(walls), cpu: medianOf(a.rounds.map((r, i) => r.cpuMs / b.rounds[i]!.cpuMs)), walls };
}

function medianOf(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
