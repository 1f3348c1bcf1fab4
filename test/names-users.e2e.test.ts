import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, newPond, pond, pondOk } from "./support/pond-cli.ts";

let p: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  p = await newPond();
  writeFileSync(join(p.dir, "h.txt"), "hi\n");
});
afterAll(() => p.cleanup());

describe("pond names", () => {
  test.each([
    ["a newline", "a\nb.txt"],
    ["a tab", "a\tb.txt"],
    ["an ESC", "a\u001b[31mb.txt"],
  ])("copy and mkdir refuse a name with %s, naming the reason", async (reason, name) => {
    const before = (await pondOk(["list", "-a"], { pond: p.pondDir })).stdout;
    const c = await pond(["copy", `host://${join(p.dir, "h.txt")}`, `/${name}`], { pond: p.pondDir });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`contains ${reason}`);
    const m = await pond(["mkdir", `/${name}`], { pond: p.pondDir });
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`contains ${reason}`);
    expect((await pondOk(["list", "-a"], { pond: p.pondDir })).stdout).toBe(before);
  });
});

/** Runs the binary with exactly `env` (no inherited USER/LOGNAME). */
async function runWith(env: Record<string, string>, args: string[]): Promise<string> {
  const proc = Bun.spawn([POND_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", POND: p.pondDir, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`pond ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

describe("pond log names the user", () => {
  test("from $USER, then $LOGNAME, then the account of the uid (as under cron or systemd)", async () => {
    const account = (await new Response(Bun.spawn(["id", "-un"], { stdout: "pipe" }).stdout).text()).trim();
    expect(account).not.toBe("");
    for (const [env, who] of [
      [{ USER: "alice", LOGNAME: "bob" }, "alice"],
      [{ LOGNAME: "bob" }, "bob"],
      [{}, account],
    ] as const) {
      await runWith(env, ["mkdir", "-p", `/by-${who}`]);
      expect(await runWith(env, ["log", "-n", "1"])).toContain(`by ${who}\n`);
    }
  });
});
