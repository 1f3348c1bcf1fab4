// Issue 13: rm, mv, ln -s and copying a host folder to a new path, through the real binary.
// Every bad input must exit non-zero with a message naming the path, and leave the data log
// exactly as long as it was.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let t: Awaited<ReturnType<typeof newPond>>;
const ok = (args: string[]) => pondOk(args, { pond: t.pondDir });
const run = (args: string[]) => pond(args, { pond: t.pondDir });
const lines = (s: string) => s.split("\n").filter(Boolean);

/** Runs a command that must fail: exit code, stderr naming `names`, and no new commit. */
async function refused(args: string[], ...names: string[]): Promise<string> {
  const before = await latestLogVersion(t.pondDir);
  const r = await run(args);
  expect(r.code).not.toBe(0);
  for (const n of names) expect(r.stderr).toContain(n);
  expect(r.stderr).not.toContain("this is a bug");
  expect(await latestLogVersion(t.pondDir)).toBe(before);
  return r.stderr;
}

/** A host file with the given text. */
function hostFile(name: string, text: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, text);
  return p;
}

beforeEach(async () => {
  t = await newPond();
  await ok(["mkdir", "-p", "/raw/2025", "/keep"]);
  await ok(["copy", `host://${hostFile("a.tmp", "A")}`, "/raw/2025/a.tmp"]);
  await ok(["copy", `host://${hostFile("b.tmp", "B")}`, "/raw/2025/b.tmp"]);
  await ok(["copy", `host://${hostFile("c.csv", "t,v\n1,2\n")}`, "/raw/2025/c.csv"]);
});
afterEach(() => t.cleanup());

describe("pond rm", () => {
  test("removes a glob's matches in one transaction; --as-of still reads them and describe --as-of shows them", async () => {
    const before = await latestLogVersion(t.pondDir);
    await ok(["rm", "/raw/2025/*.tmp"]);
    expect(await latestLogVersion(t.pondDir)).toBe(before + 1);
    expect(lines((await ok(["list", "/raw/2025/"])).stdout)).toEqual(["/raw/2025/c.csv"]);
    expect((await ok(["cat", "/raw/2025/a.tmp", "--as-of", String(before)])).stdout).toBe("A");
    expect((await ok(["describe", "/raw/2025/b.tmp", "--as-of", String(before)])).stdout).toContain("versions 1");
    const log = (await ok(["log", "-n", "1"])).stdout;
    expect(log).toContain("removed /raw/2025/a.tmp (file:data)");
    expect(log).toContain("removed /raw/2025/b.tmp (file:data)");
  });

  test("a directory needs -r (the error gives the hint); -r removes it whole", async () => {
    const err = await refused(["rm", "/raw"], '"/raw"', "pond rm -r /raw");
    expect(err).toContain("is a directory");
    await ok(["rm", "-r", "/raw"]);
    expect(lines((await ok(["list"])).stdout)).toEqual(["/keep"]);
    await refused(["cat", "/raw/2025/c.csv"], '"/raw/2025/c.csv"');
  });

  test("a missing path or a glob matching nothing is an error unless -f, and -f writes nothing", async () => {
    await refused(["rm", "/raw/2025/none.txt"], '"/raw/2025/none.txt"', "-f");
    await refused(["rm", "/raw/2025/*.zip"], '"/raw/2025/*.zip"', "-f");
    await refused(["rm", "/raw/2025/a.tmp", "/missing"], '"/missing"');
    expect(lines((await ok(["list", "/raw/2025/"])).stdout)).toHaveLength(3);
    const before = await latestLogVersion(t.pondDir);
    await ok(["rm", "-f", "/raw/2025/*.zip", "/missing"]);
    expect(await latestLogVersion(t.pondDir)).toBe(before);
    await refused(["rm", "-r", "/"], '"/"');
  });

  test("a removed path read --as-of a later transaction is a clear not-found", async () => {
    await ok(["rm", "/raw/2025/a.tmp"]);
    const now = await latestLogVersion(t.pondDir);
    await refused(["cat", "/raw/2025/a.tmp", "--as-of", String(now)], '"/raw/2025/a.tmp"', "does not exist");
  });
});

describe("pond mv", () => {
  test("renames a file keeping its node id and every version, with the transactions that wrote them", async () => {
    await ok(["copy", `host://${hostFile("a2", "A2")}`, "/raw/2025/a.tmp"]);
    const before = JSON.parse((await ok(["describe", "/raw/2025/a.tmp", "--format", "json"])).stdout);
    await ok(["mv", "/raw/2025/a.tmp", "/keep/a.txt"]);
    const after = JSON.parse((await ok(["describe", "/keep/a.txt", "--format", "json"])).stdout);
    expect(after.node_id).toBe(before.node_id);
    expect(after.versions).toEqual(before.versions);
    expect((await ok(["cat", "/keep/a.txt", "--version", "1"])).stdout).toBe("A");
    expect((await ok(["log", "-n", "1"])).stdout).toContain("moved /raw/2025/a.tmp -> /keep/a.txt (file:data)");
  });

  test("moves a directory whole, and several sources into an existing directory", async () => {
    await ok(["mv", "/raw/2025", "/keep/y2025"]);
    expect(lines((await ok(["list", "/keep/y2025/"])).stdout)).toEqual(["/keep/y2025/a.tmp", "/keep/y2025/b.tmp", "/keep/y2025/c.csv"]);
    expect((await ok(["cat", "/keep/y2025/b.tmp"])).stdout).toBe("B");
    await ok(["mv", "/keep/y2025/a.tmp", "/keep/y2025/b.tmp", "/raw"]);
    expect(lines((await ok(["list", "/raw/"])).stdout)).toEqual(["/raw/a.tmp", "/raw/b.tmp"]);
  });

  test("refuses a directory into itself, several sources onto a non-directory, another type, and missing paths", async () => {
    await refused(["mv", "/raw", "/raw/2025/inner"], '"/raw"', "into itself");
    await refused(["mv", "/raw/2025/a.tmp", "/raw/2025/b.tmp", "/nowhere"], '"/nowhere"', "existing directory");
    await refused(["mv", "/raw/2025/a.tmp", "/raw/2025/b.tmp", "/raw/2025/c.csv"], '"/raw/2025/c.csv"');
    await ok(["ln", "-s", "/raw", "/link"]);
    await refused(["mv", "/link", "/raw/2025/c.csv"], '"/raw/2025/c.csv"', "symlink");
    await refused(["mv", "/nope", "/keep"], '"/nope"');
    await refused(["mv", "/raw/2025/a.tmp", "/no/such/x"], '"/no/such"');
    await refused(["mv", "/raw"], "destination");
  });
});

describe("pond ln -s", () => {
  test("list -l shows LINK -> TARGET; cat, describe and copy out follow it", async () => {
    await ok(["ln", "-s", "/raw/2025/a.tmp", "/keep/a"]);
    await ok(["ln", "-s", "../raw/2025", "/keep/dir"]);
    expect((await ok(["list", "-l", "/keep/"])).stdout).toContain("/keep/a -> /raw/2025/a.tmp");
    expect((await ok(["cat", "/keep/a"])).stdout).toBe("A");
    expect((await ok(["cat", "/keep/dir/b.tmp"])).stdout).toBe("B");
    expect((await ok(["describe", "/keep/a"])).stdout).toContain("type     file:data");
    const out = join(t.dir, "out");
    await ok(["copy", "/keep", `host://${out}`]);
    expect(readFileSync(join(out, "keep", "a"), "utf8")).toBe("A");
    expect(readFileSync(join(out, "keep", "dir", "c.csv"), "utf8")).toBe("t,v\n1,2\n");
    expect((await ok(["log", "-n", "1"])).stdout).toContain("symlink /keep/dir -> ../raw/2025");
  });

  test("dangling links and loops give clear errors; an existing link path and a missing -s are refused", async () => {
    await ok(["ln", "-s", "/gone", "/dangling"]);
    await refused(["cat", "/dangling"], '"/dangling"', '"/gone"');
    await ok(["ln", "-s", "/loop2", "/loop1"]);
    await ok(["ln", "-s", "/loop1", "/loop2"]);
    await refused(["cat", "/loop1"], '"/loop1"', "symbolic links");
    await refused(["copy", "/loop1", `host://${join(t.dir, "o2")}`], '"/loop1"', "symbolic links");
    await refused(["ln", "-s", "/x", "/dangling"], '"/dangling"', "already exists");
    await refused(["ln", "/raw", "/hard"], "ln -s");
  });
});

describe("pond copy of a host folder", () => {
  function hostTree(): string {
    const root = join(t.dir, "tree");
    mkdirSync(join(root, "sub"), { recursive: true });
    writeFileSync(join(root, "one.txt"), "1");
    writeFileSync(join(root, "sub", "two.txt"), "2");
    symlinkSync("../one.txt", join(root, "sub", "link"));
    return root;
  }

  test("onto a missing path creates it as cp -r does, following host symlinks", async () => {
    await ok(["copy", `host://${hostTree()}`, "/new"]);
    expect(lines((await ok(["list"])).stdout).filter((p) => p.startsWith("/new"))).toEqual([
      "/new",
      "/new/one.txt",
      "/new/sub",
      "/new/sub/link",
      "/new/sub/two.txt",
    ]);
    expect((await ok(["describe", "/new/sub/link"])).stdout).toContain("file:data");
    expect((await ok(["cat", "/new/sub/link"])).stdout).toBe("1");
  });

  test("--no-dereference stores host symlinks as pond symlinks; onto an existing directory it goes inside", async () => {
    await ok(["copy", "--no-dereference", `host://${hostTree()}`, "/keep"]);
    expect((await ok(["list", "-l", "/keep/tree/sub/"])).stdout).toContain("/keep/tree/sub/link -> ../one.txt");
    expect((await ok(["cat", "/keep/tree/sub/link"])).stdout).toBe("1");
  });

  test("a host symlink loop is an error naming it, and nothing is written", async () => {
    const root = hostTree();
    symlinkSync("..", join(root, "sub", "up"));
    await refused(["copy", `host://${root}`, "/new"], join(root, "sub", "up"), "loop");
    await refused(["copy", `host://${root}`, "/no/parent"], '"/no"');
  });
});

test("a dangling host symlink in a folder is an error naming it and its target", async () => {
  const root = join(t.dir, "dtree");
  mkdirSync(root);
  symlinkSync("nothing-here", join(root, "broken"));
  await refused(["copy", `host://${root}`, "/new"], join(root, "broken"), "nothing-here");
});
