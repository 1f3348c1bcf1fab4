import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalObjectStore, loadSnapshot } from "@pond/oplog";
import { FIXTURES, POND_BIN, latestLogVersion, newPond, pond, pondOk, tempDir } from "./support/pond-cli.ts";
import { sha256 as sha } from "./support/kit.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
let host: string;
const P = () => ({ pond: ctx.pondDir });

beforeAll(async () => {
  ctx = await newPond();
  host = join(ctx.dir, "host");
  mkdirSync(host);
});
afterAll(() => ctx.cleanup());

describe("round trips are byte-exact", () => {
  const random200k = new Uint8Array(200 * 1024);
  crypto.getRandomValues(random200k.subarray(0, 65536));
  crypto.getRandomValues(random200k.subarray(65536, 131072));
  crypto.getRandomValues(random200k.subarray(131072));
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array()],
    ["text.txt", new TextEncoder().encode("hello, pond\nsecond line\n")],
    ["random.bin", random200k],
    ["name with spaces.txt", new TextEncoder().encode("spaces")],
    ["Ünïcödé-名前.txt", new TextEncoder().encode("non-ascii name")],
  ];
  for (const [name, bytes] of cases) {
    test(`copy then cat returns the same bytes: ${name}`, async () => {
      writeFileSync(join(host, name), bytes);
      await pondOk(["copy", `host://${join(host, name)}`, `/${name}`], P());
      const out = await pondOk(["cat", `/${name}`], P());
      expect(out.stdoutBytes.length).toBe(bytes.length);
      expect(sha(out.stdoutBytes)).toBe(sha(bytes));
    });
  }

  test("the binaries in fixtures/blobs round-trip", async () => {
    await pondOk(["mkdir", "-p", "/blobs"], P());
    const files: string[] = [];
    for (const sub of readdirSync(join(FIXTURES, "blobs")))
      for (const f of readdirSync(join(FIXTURES, "blobs", sub))) files.push(join(FIXTURES, "blobs", sub, f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    await pondOk(["copy", ...files.map((f) => `host://${f}`), "/blobs"], P());
    for (const f of files) {
      const out = await pondOk(["cat", `/blobs/${f.slice(f.lastIndexOf("/") + 1)}`], P());
      expect(sha(out.stdoutBytes)).toBe(sha(readFileSync(f)));
    }
  });

  test("a host folder copies recursively and copies back out under full pond paths", async () => {
    const src = join(host, "tree");
    mkdirSync(join(src, "sub", "deeper"), { recursive: true });
    writeFileSync(join(src, "a.txt"), "A");
    writeFileSync(join(src, "sub", "b.txt"), "B");
    writeFileSync(join(src, "sub", "deeper", "c.txt"), "C");
    await pondOk(["mkdir", "/trees"], P());
    await pondOk(["copy", `host://${src}`, "/trees"], P());
    const listed = (await pondOk(["list", "/trees/**"], P())).stdout.trim().split("\n");
    expect(listed).toEqual([
      "/trees",
      "/trees/tree",
      "/trees/tree/a.txt",
      "/trees/tree/sub",
      "/trees/tree/sub/b.txt",
      "/trees/tree/sub/deeper",
      "/trees/tree/sub/deeper/c.txt",
    ]);
    const out = join(ctx.dir, "out");
    await pondOk(["copy", "/trees/tree/sub", "/trees/tree/*.txt", `host://${out}`], P());
    expect(readFileSync(join(out, "trees/tree/sub/deeper/c.txt"), "utf8")).toBe("C");
    expect(readFileSync(join(out, "trees/tree/sub/b.txt"), "utf8")).toBe("B");
    expect(readFileSync(join(out, "trees/tree/a.txt"), "utf8")).toBe("A");
  });
});

describe("large files", () => {
  test("a file of 64 KiB or more is stored once in _large_files even when copied to three paths", async () => {
    const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251);
    writeFileSync(join(host, "big.bin"), big);
    await pondOk(["mkdir", "/l1", "/l2", "/l3"], P());
    for (const d of ["/l1", "/l2", "/l3"]) await pondOk(["copy", `host://${join(host, "big.bin")}`, d], P());
    const large = readdirSync(join(ctx.pondDir, "data", "_large_files")).filter((n) => n === `sha256=${sha(big)}`);
    expect(large).toHaveLength(1);
    expect(statSync(join(ctx.pondDir, "data", "_large_files", large[0]!)).size).toBe(big.length);
    for (const d of ["/l1", "/l2", "/l3"]) expect(sha((await pondOk(["cat", `${d}/big.bin`], P())).stdoutBytes)).toBe(sha(big));
  });

  test("a large file changed on disk fails cat with exit 4 naming it", async () => {
    const t = await newPond();
    try {
      const f = join(t.dir, "x.bin");
      const bytes = new Uint8Array(100_000).fill(3);
      writeFileSync(f, bytes);
      await pondOk(["copy", `host://${f}`, "/x.bin"], { pond: t.pondDir });
      const stored = join(t.pondDir, "data", "_large_files", `sha256=${sha(bytes)}`);
      const tampered = Uint8Array.from(bytes);
      tampered[500] = 9;
      writeFileSync(stored, tampered);
      const r = await pond(["cat", "/x.bin"], { pond: t.pondDir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`sha256=${sha(bytes)}`);
    } finally {
      t.cleanup();
    }
  });
});

describe("versions", () => {
  test("copying onto an existing file adds a version; cat shows the newest, --version and --as-of the old", async () => {
    writeFileSync(join(host, "v.txt"), "one");
    await pondOk(["copy", `host://${join(host, "v.txt")}`, "/v.txt"], P());
    const seqAfterV1 = await latestLogVersion(ctx.pondDir);
    writeFileSync(join(host, "v.txt"), "two");
    await pondOk(["copy", `host://${join(host, "v.txt")}`, "/v.txt"], P());
    expect((await pondOk(["cat", "/v.txt"], P())).stdout).toBe("two");
    expect((await pondOk(["cat", "/v.txt", "--version", "1"], P())).stdout).toBe("one");
    expect((await pondOk(["cat", "/v.txt", "--as-of", String(seqAfterV1)], P())).stdout).toBe("one");
    const d = JSON.parse((await pondOk(["describe", "/v.txt", "--format", "json"], P())).stdout);
    expect(d.type).toBe("file:data");
    expect(d.versions.map((v: { version: number; size: number }) => [v.version, v.size])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(d.versions[0].txn).toBe(seqAfterV1);
    const missing = await pond(["cat", "/v.txt", "--version", "9"], P());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Version 9");
  });

  test("--as-of an ISO time reads the pond as it was then", async () => {
    writeFileSync(join(host, "t.txt"), "before");
    await pondOk(["copy", `host://${join(host, "t.txt")}`, "/t.txt"], P());
    await Bun.sleep(1100);
    const between = new Date().toISOString();
    await Bun.sleep(1100);
    writeFileSync(join(host, "t.txt"), "after");
    await pondOk(["copy", `host://${join(host, "t.txt")}`, "/t.txt"], P());
    expect((await pondOk(["cat", "/t.txt", "--as-of", between], P())).stdout).toBe("before");
    const atCreation = await pond(["list", "/t.txt", "--as-of", "0"], P());
    expect(atCreation.code).toBe(1);
  });
});

describe("list", () => {
  test("'/', '/dir/', '/dir', globs, -a, -l and json", async () => {
    const t = await newPond();
    const o = { pond: t.pondDir };
    try {
      await pondOk(["mkdir", "-p", "/a/b", "/a/.hidden", "/c"], o);
      writeFileSync(join(t.dir, "f.csv"), "x\n1\n");
      await pondOk(["copy", `host://${join(t.dir, "f.csv")}`, "/a/b/f.csv"], o);
      expect((await pondOk(["list"], o)).stdout).toBe("/a\n/a/b\n/a/b/f.csv\n/c\n");
      expect((await pondOk(["list", "-a"], o)).stdout).toBe("/a\n/a/.hidden\n/a/b\n/a/b/f.csv\n/c\n");
      expect((await pondOk(["list", "/"], o)).stdout).toBe("/a\n/c\n");
      expect((await pondOk(["list", "/a/"], o)).stdout).toBe("/a/b\n");
      expect((await pondOk(["list", "/a"], o)).stdout).toBe("/a\n");
      expect((await pondOk(["list", "/**/*.csv"], o)).stdout).toBe("/a/b/f.csv\n");
      expect((await pondOk(["list", "/{a,c}"], o)).stdout).toBe("/a\n/c\n");
      const json = JSON.parse((await pondOk(["list", "/a/b/*", "--format", "json"], o)).stdout);
      expect(json).toEqual([expect.objectContaining({ path: "/a/b/f.csv", type: "file:data", version: 1, size: 4 })]);
      const long = (await pondOk(["list", "-l", "/a/b/f.csv"], o)).stdout;
      expect(long).toContain("file:data");
      expect(long).toContain("/a/b/f.csv");
      const none = await pond(["list", "/nope"], o);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("/nope");
    } finally {
      t.cleanup();
    }
  });
});

describe("bad input changes nothing and exits non-zero", () => {
  async function unchanged(args: string[], code: number, mention: string) {
    const before = await latestLogVersion(ctx.pondDir);
    const r = await pond(args, P());
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(mention);
    expect(r.stdout).toBe("");
    expect(await latestLogVersion(ctx.pondDir)).toBe(before);
  }
  test("a missing host file", () => unchanged(["copy", "host:///no/such/file.txt", "/x.txt"], 1, "/no/such/file.txt"));
  test("a pond path that escapes /", () => unchanged(["mkdir", "/../../etc"], 1, "escapes"));
  test("mkdir of an existing path without -p", async () => {
    await pondOk(["mkdir", "-p", "/exists"], P());
    await unchanged(["mkdir", "/exists"], 1, "/exists");
  });
  test("mkdir of a path whose parent is missing", () => unchanged(["mkdir", "/no/parent"], 1, "/no"));
  test("a second init", () => unchanged(["init"], 1, "already"));
  test("cat of a directory", () => unchanged(["cat", "/exists"], 1, "/exists"));
  test("cat of a missing path", () => unchanged(["cat", "/missing.txt"], 1, "/missing.txt"));
  test("copy of several files to a missing directory", () =>
    unchanged(["copy", `host://${join(host, "v.txt")}`, `host://${join(host, "t.txt")}`, "/newdir"], 1, "/newdir"));
  test("an unknown command is a usage error", () => unchanged(["frobnicate"], 2, "frobnicate"));
  test("no pond given says how to set one", async () => {
    const r = await pond(["list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--pond");
    expect(r.stderr).toContain("POND");
  });
  test("a folder that is not a pond", async () => {
    const t = tempDir();
    try {
      const r = await pond(["list"], { pond: t.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("not a pond");
    } finally {
      t.cleanup();
    }
  });
});

describe("history", () => {
  test("log shows each write transaction with its command; show lists commits", async () => {
    const t = await newPond();
    try {
      await pondOk(["mkdir", "/d"], { pond: t.pondDir });
      await pond(["mkdir", "/d"], { pond: t.pondDir });
      const log = JSON.parse((await pondOk(["log", "--format", "json"], { pond: t.pondDir })).stdout);
      expect(log.map((x: { status: string; seq?: number }) => [x.status, x.seq ?? null])).toEqual([
        ["failed", null],
        ["committed", 1],
        ["committed", 0],
      ]);
      expect(log[1].command).toEqual(["pond", "mkdir", "/d"]);
      const text = (await pondOk(["log", "-n", "1"], { pond: t.pondDir })).stdout;
      expect(text).toContain("failed");
      expect(text).not.toContain("committed");
      const show = JSON.parse((await pondOk(["show", "--format", "json"], { pond: t.pondDir })).stdout);
      expect(show.map((c: { version: number }) => c.version)).toEqual([0, 1]);
      expect(show[1].adds).toBeGreaterThan(0);
    } finally {
      t.cleanup();
    }
  });
});

describe("data/ is a valid Delta table", () => {
  test("the oplog reader replays it and every add names a file of the stated size", async () => {
    const snap = await loadSnapshot(new LocalObjectStore(join(ctx.pondDir, "data")));
    expect(snap.version).toBe(await latestLogVersion(ctx.pondDir));
    expect(snap.metadata.partitionColumns).toEqual(["part_id"]);
    expect(snap.protocol.minReaderVersion).toBe(1);
    expect(snap.files.length).toBeGreaterThan(5);
    for (const f of snap.files) {
      const p = join(ctx.pondDir, "data", f.path);
      expect(existsSync(p)).toBe(true);
      expect(statSync(p).size).toBe(f.size);
      expect(f.path.startsWith(`part_id=${f.partitionValues.part_id}/`)).toBe(true);
    }
  });
});

describe("the CLI", () => {
  test("--version prints the version", async () => {
    expect((await pondOk(["--version"])).stdout).toMatch(/^pond \d+\.\d+\.\d+\n$/);
  });
  for (const c of ["init", "mkdir", "list", "copy", "cat", "describe", "show", "log", "recover"]) {
    test(`${c} --help describes the command`, async () => {
      const r = await pondOk([c, "--help"]);
      expect(r.stdout).toContain(`pond ${c}`);
      expect(r.stdout).toContain("--pond");
    });
  }
  test("the binary exists", () => expect(existsSync(POND_BIN)).toBe(true));
});
