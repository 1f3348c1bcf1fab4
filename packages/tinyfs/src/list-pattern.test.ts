import { beforeAll, describe, expect, test } from "bun:test";
import type { PondError } from "@pond/diagnostics";
import { listPattern } from "./list-pattern.ts";
import { MemoryPersistence } from "./memory.ts";
import { newTxnMeta } from "./txn-meta.ts";
import { FS } from "./fs.ts";
import { WD } from "./wd.ts";

const text = (s: string) => new TextEncoder().encode(s);
let fs: FS;

beforeAll(async () => {
  fs = new FS(new MemoryPersistence());
  await fs.transaction(newTxnMeta(["pond", "test"]), async (wd) => {
    await wd.createFile("/data/2024/a.csv", "file:data", text("a"), { parents: true });
    await wd.createFile("/data/2024/b.csv", "file:data", text("b"));
    await wd.createFile("/data/2025/c.csv", "file:data", text("c"), { parents: true });
    await wd.createFile("/data/notes.txt", "file:data", text("n"));
    await wd.createFile("/data/.secret", "file:data", text("s"));
    await wd.createFile("/data.csv", "file:data", text("d"));
    await wd.createFile("/odd [1].txt", "file:data", text("o"));
    await wd.createFile("/.hidden/x", "file:data", text("x"), { parents: true });
    await wd.mkdir("/empty");
    await wd.symlink("/data/2024", "/latest");
  });
});

// [pattern, dot, expected paths]
const TABLE: Array<[string | undefined, boolean, string[]]> = [
  [
    undefined,
    false,
    [
      "/data",
      "/data.csv",
      "/data/2024",
      "/data/2024/a.csv",
      "/data/2024/b.csv",
      "/data/2025",
      "/data/2025/c.csv",
      "/data/notes.txt",
      "/empty",
      "/latest",
      "/odd [1].txt",
    ],
  ],
  [
    undefined,
    true,
    [
      "/.hidden",
      "/.hidden/x",
      "/data",
      "/data.csv",
      "/data/.secret",
      "/data/2024",
      "/data/2024/a.csv",
      "/data/2024/b.csv",
      "/data/2025",
      "/data/2025/c.csv",
      "/data/notes.txt",
      "/empty",
      "/latest",
      "/odd [1].txt",
    ],
  ],
  ["/", false, ["/data", "/data.csv", "/empty", "/latest", "/odd [1].txt"]],
  ["/", true, ["/.hidden", "/data", "/data.csv", "/empty", "/latest", "/odd [1].txt"]],
  ["/data/", false, ["/data/2024", "/data/2025", "/data/notes.txt"]],
  ["/data/", true, ["/data/.secret", "/data/2024", "/data/2025", "/data/notes.txt"]],
  ["/data", false, ["/data"]],
  ["/data//", false, ["/data/2024", "/data/2025", "/data/notes.txt"]],
  ["/data/.secret", false, ["/data/.secret"]],
  ["/empty/", false, []],
  ["/latest", false, ["/latest"]],
  ["/latest/", false, ["/latest/a.csv", "/latest/b.csv"]],
  ["/data/*", false, ["/data/2024", "/data/2025", "/data/notes.txt"]],
  ["/data/*/*.csv", false, ["/data/2024/a.csv", "/data/2024/b.csv", "/data/2025/c.csv"]],
  ["/**/*.csv", false, ["/data.csv", "/data/2024/a.csv", "/data/2024/b.csv", "/data/2025/c.csv"]],
  ["/data/202?/", false, ["/data/2024/a.csv", "/data/2024/b.csv", "/data/2025/c.csv"]],
  ["/*/", false, ["/data/2024", "/data/2025", "/data/notes.txt", "/latest/a.csv", "/latest/b.csv"]],
  ["/nothing*", false, []],
  ["/data/{2024,2025}/[ab].csv", false, ["/data/2024/a.csv", "/data/2024/b.csv"]],
  ["/odd \\[1\\].txt", false, ["/odd [1].txt"]],
  ["/odd [1].txt", false, []],
  ["/*", true, ["/.hidden", "/data", "/data.csv", "/empty", "/latest", "/odd [1].txt"]],
];

describe("listPattern()", () => {
  for (const [pattern, dot, expected] of TABLE) {
    test(`listPattern() of ${pattern ?? "(none)"}${dot ? " with dot" : ""} lists ${expected.length} entries`, async () => {
      const got = await listPattern(await fs.view(), pattern, { dot });
      expect(got.map((m) => m.path)).toEqual(expected);
    });
  }

  test("listPattern() takes relative patterns from the WD's cwd", async () => {
    const wd = new WD((await fs.view()).view, "/data");
    expect((await listPattern(wd, "2024/")).map((m) => m.path)).toEqual(["/data/2024/a.csv", "/data/2024/b.csv"]);
    expect((await listPattern(wd, "*.txt")).map((m) => m.path)).toEqual(["/data/notes.txt"]);
    expect((await listPattern(wd, ".")).map((m) => m.path)).toEqual(["/data"]);
  });

  test("listPattern() returns ids and types a caller can read with", async () => {
    const wd = await fs.view();
    const [m] = await listPattern(wd, "/data/2024/a.csv");
    expect(m!.entryType).toBe("file:data");
    expect(m!.versionLastModified).toBe(1);
    const chunks: Uint8Array[] = [];
    for await (const c of wd.view.read(m!.parentId, m!.nodeId)) chunks.push(c);
    expect(new TextDecoder().decode(chunks[0])).toBe("a");
  });

  test("listPattern() throws NotFoundError naming a literal path that does not exist", async () => {
    const e = (await listPattern(await fs.view(), "/data/nope.csv").catch((x: unknown) => x)) as PondError;
    expect(e.code).toBe("not_found");
    expect(e.message).toBe('"/data/nope.csv" does not exist');
    expect(e.hint).toContain("pond list /data/");
  });

  test("listPattern() throws NotFoundError for a missing directory and WrongTypeError for a file with a trailing slash", async () => {
    const wd = await fs.view();
    expect(((await listPattern(wd, "/nope/").catch((x: unknown) => x)) as PondError).code).toBe("not_found");
    expect(((await listPattern(wd, "/data.csv/").catch((x: unknown) => x)) as PondError).code).toBe("wrong_type");
  });

  test("listPattern() throws InvalidPathError when the pattern escapes the pond", async () => {
    expect(((await listPattern(await fs.view(), "/../x").catch((x: unknown) => x)) as PondError).code).toBe("invalid_path");
  });
});
