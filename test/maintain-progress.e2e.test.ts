// Long maintenance shows a progress bar when stderr is a terminal, and only then: `maintain
// full`'s merge (input files and their bytes) and cleanup (files deleted), and fsck (payloads
// and bytes hashed). The terminal is a real pseudo-terminal, made by util-linux's `script`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, pond, pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
let P: { pond: string };
const VERSIONS = 12;

beforeAll(async () => {
  tmp = tempDir("pond-maintain-progress-");
  P = { pond: join(tmp.dir, "p") };
  await pondOk(["init"], P);
  await pondOk(["config", "set", "maintain.auto", "off"], P);
  await pondOk(["mkdir", "/d"], P);
  for (let i = 0; i < VERSIONS; i++) {
    const f = join(tmp.dir, `v${i}.csv`);
    writeFileSync(f, `timestamp,v\n2025-01-01T00:${String(10 + i)}:00Z,${i}.5\n`);
    await pondOk(["copy", `host+series+csv://${f}`, "/d/s.series"], P);
  }
});
afterAll(() => tmp?.cleanup());

/** Runs pond under a pseudo-terminal: what the terminal showed (stdout and stderr together), and the exit code. */
async function onTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const line = [POND_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const proc = Bun.spawn(["script", "-qec", line, "/dev/null"], { env: { ...process.env, POND: P.pond }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [screen, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, screen };
}

describe("progress of maintenance on a terminal", () => {
  test("maintain full draws merge's and cleanup's bars to their totals; without a terminal, none", async () => {
    const plain = await pond(["maintain", "full", "--keep-last", "1", "--retention", "0s", "--dry-run"], P);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain("[");
    const r = await onTerminal(["maintain", "full", "--keep-last", "1", "--retention", "0s"]);
    expect(r.code).toBe(0);
    const frames = r.screen.split(/[\r\n]/).filter((l) => l.includes("] "));
    // The newest version keeps its own file: the others are merged.
    const merge = frames.filter((l) => l.startsWith("merge ["));
    expect(merge.at(-1)).toContain(`${VERSIONS - 1}/${VERSIONS - 1} files`);
    const cleanup = frames.filter((l) => l.startsWith("cleanup ["));
    const deleted = /cleanup: \d+ file\(s\), \d+ bytes: (\d+) file\(s\), (\d+) bytes deleted/.exec(r.screen);
    expect(deleted).not.toBeNull();
    expect(cleanup.at(-1)).toMatch(new RegExp(`^cleanup \\[#+\\] ${deleted![1]}/${deleted![1]} files`));
    expect(r.screen).toContain("checkpoint: 1 file(s)");
  });

  test("fsck draws its bar over every payload it hashes", async () => {
    const r = await onTerminal(["fsck"]);
    expect(r.code).toBe(0);
    const frames = r.screen.split(/[\r\n]/).filter((l) => l.startsWith("fsck ["));
    const payloads = /(\d+) payload\(s\)/.exec(r.screen)![1];
    expect(frames.at(-1)).toContain(`${payloads}/${payloads} files`);
    expect(r.screen).toContain("whole: no problems found");
  });
});
