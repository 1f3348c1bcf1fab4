import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, newPond, pond, pondOk, tempDir, type RunResult } from "./support/pond-cli.ts";

/**
 * Errors the operating system raises about the machine are the user's to fix: exit 1 with
 * what happened and what to do, never "this is a bug" (exit 70). The full disk is a real
 * 4 MiB tmpfs (`mount -t tmpfs`, which needs root: the tests that need it are skipped,
 * saying so, when it is refused); the read-only pond is the same tmpfs remounted read-only;
 * permission denied runs the binary as the user nobody through setpriv.
 */
function sh(cmd: string[]): { code: number; err: string } {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  return { code: r.exitCode, err: r.stderr.toString() };
}

const scratch = tempDir("pond-syserr-");
const mnt = join(scratch.dir, "mnt");
mkdirSync(mnt);
const mounted = sh(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]);
const canMount = mounted.code === 0;
if (!canMount) console.log(`system-errors: mount -t tmpfs refused (${mounted.err.trim()}); the full-disk and read-only tests are skipped`);
const canSetpriv = process.getuid?.() === 0 && sh(["setpriv", "--version"]).code === 0;

afterAll(() => {
  if (canMount) sh(["umount", mnt]);
  scratch.cleanup();
});

function expectUserError(r: RunResult, what: RegExp): void {
  expect(r.stderr).not.toContain("this is a bug");
  expect(r.stderr).toMatch(what);
  expect(r.code).toBe(1);
}

describe.skipIf(!canMount)("a full disk (4 MiB tmpfs)", () => {
  const pondDir = join(mnt, "pond");
  const host = join(scratch.dir, "h.txt");
  const big = join(scratch.dir, "big.bin");
  let listing = "";
  beforeAll(async () => {
    writeFileSync(host, "hello\n");
    writeFileSync(big, new Uint8Array(5 << 20).fill(7));
    await pondOk(["init", "--pond", pondDir]);
    await pondOk(["copy", `host://${host}`, "/h.txt"], { pond: pondDir });
    await pondOk(["mkdir", "/d"], { pond: pondDir });
    listing = (await pondOk(["list"], { pond: pondDir })).stdout;
    // Fill what is left, to the last block.
    sh(["sh", "-c", `dd if=/dev/zero of=${join(mnt, "filler")} bs=4k 2>/dev/null; true`]);
  });

  test.each([
    ["init", ["init", "--pond", join(mnt, "second")]],
    ["mkdir", ["mkdir", "/new"]],
    ["copy in (small)", ["copy", `host://${join(scratch.dir, "h.txt")}`, "/h2.txt"]],
    ["copy in (large)", ["copy", `host://${join(scratch.dir, "big.bin")}`, "/big.bin"]],
    ["copy out onto the full disk", ["copy", "/h.txt", `host://${join(mnt, "out")}/`]],
    ["rm", ["rm", "/h.txt"]],
    ["mv", ["mv", "/h.txt", "/moved.txt"]],
    ["recover", ["recover"]],
  ])("%s exits 1 saying the disk is full", async (_what, args) => {
    expectUserError(await pond(args, { pond: pondDir }), /disk is full \(ENOSPC\)/);
  });

  test("reads still work, and once space is freed, recover and writes work and nothing was lost", async () => {
    expect((await pondOk(["cat", "/h.txt"], { pond: pondDir })).stdout).toBe("hello\n");
    rmSync(join(mnt, "filler"));
    await pondOk(["recover"], { pond: pondDir });
    expect((await pondOk(["list"], { pond: pondDir })).stdout).toBe(listing);
    await pondOk(["mkdir", "/after"], { pond: pondDir });
  });
});

describe.skipIf(!canMount)("a read-only pond (the tmpfs remounted read-only)", () => {
  const pondDir = join(mnt, "ro-pond");
  beforeAll(async () => {
    await pondOk(["init", "--pond", pondDir]);
    writeFileSync(join(scratch.dir, "r.txt"), "ro\n");
    await pondOk(["copy", `host://${join(scratch.dir, "r.txt")}`, "/r.txt"], { pond: pondDir });
    expect(sh(["mount", "-o", "remount,ro", mnt]).code).toBe(0);
  });
  afterAll(() => sh(["mount", "-o", "remount,rw", mnt]));
  test("reads work; writes exit 1 saying the file system is read-only", async () => {
    expect((await pondOk(["list"], { pond: pondDir })).stdout).toContain("/r.txt");
    expect((await pondOk(["cat", "/r.txt"], { pond: pondDir })).stdout).toBe("ro\n");
    await pondOk(["log"], { pond: pondDir });
    for (const args of [["mkdir", "/x"], ["rm", "/r.txt"], ["recover"]]) expectUserError(await pond(args, { pond: pondDir }), /read-only \(EROFS\)/);
  });
});

describe("paths that are files where folders must be", () => {
  let p: Awaited<ReturnType<typeof newPond>>;
  beforeAll(async () => {
    p = await newPond();
    writeFileSync(join(p.dir, "a-file"), "x");
    writeFileSync(join(p.dir, "h.txt"), "hi\n");
    await pondOk(["copy", `host://${join(p.dir, "h.txt")}`, "/h.txt"], { pond: p.pondDir });
  });
  afterAll(() => p.cleanup());
  test("init on a file, or below one, names the file", async () => {
    const at = join(p.dir, "a-file");
    expectUserError(await pond(["init", "--pond", at]), new RegExp(`"${at}": it is a file, not a folder`));
    expectUserError(await pond(["init", "--pond", join(at, "x", "y")]), new RegExp(`"${at}" is a file, not a folder`));
  });
  test("copy out into a folder path that is a host file (ENOTDIR, EEXIST)", async () => {
    expectUserError(await pond(["copy", "/h.txt", `host://${join(p.dir, "a-file", "x")}`], { pond: p.pondDir }), /not a folder \(ENOTDIR\)/);
    expectUserError(await pond(["copy", "/h.txt", `host://${join(p.dir, "a-file")}/`], { pond: p.pondDir }), /a folder is needed \(EEXIST\)/);
  });
});

describe.skipIf(!canSetpriv)("permission denied (the binary run as nobody)", () => {
  test("a write to a pond nobody may not write exits 1 saying so; a read works", async () => {
    const p = await newPond();
    try {
      chmodSync(p.dir, 0o755);
      const asNobody = (args: string[]) => {
        const r = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", POND_BIN, ...args, "--pond", p.pondDir], {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.dir },
          stdout: "pipe",
          stderr: "pipe",
        });
        return { code: r.exitCode, stdout: r.stdout.toString(), stdoutBytes: r.stdout, stderr: r.stderr.toString() };
      };
      chmodSync(scratch.dir, 0o777);
      expectUserError(asNobody(["mkdir", "/x"]), /permission denied \(EACCES\)/);
      const list = asNobody(["list"]);
      expect(list.stderr).toBe("");
      expect(list.code).toBe(0);
    } finally {
      p.cleanup();
    }
  });
});
