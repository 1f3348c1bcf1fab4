import { beforeEach, describe, expect, test } from "bun:test";
import type { PondError } from "@pond/diagnostics";
import { MemoryPersistence } from "./memory.ts";
import type { ReadView } from "./persistence.ts";
import { newTxnMeta } from "./txn-meta.ts";
import { ROOT_ID, type NodeId } from "./types.ts";
import { FS } from "./fs.ts";
import { SYMLINK_LIMIT, WD } from "./wd.ts";
import { isTransaction } from "./wd-types.ts";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const meta = () => newTxnMeta(["pond", "test"], "tester");

async function rejection(p: Promise<unknown>): Promise<PondError> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: PondError) => e,
  );
}

/** A read-only view that counts the calls made to it. */
function counting(view: ReadView): ReadView & { calls: Record<string, number> } {
  const calls: Record<string, number> = { listDir: 0, versions: 0, read: 0, readlink: 0 };
  return {
    calls,
    get seq() {
      return view.seq;
    },
    listDir: (id: NodeId) => {
      calls.listDir!++;
      return view.listDir(id);
    },
    versions: (p: NodeId, n: NodeId) => {
      calls.versions!++;
      return view.versions(p, n);
    },
    read: (p: NodeId, n: NodeId, v?: number) => {
      calls.read!++;
      return view.read(p, n, v);
    },
    readlink: (p: NodeId, n: NodeId) => {
      calls.readlink!++;
      return view.readlink(p, n);
    },
  };
}

let fs: FS;
let persistence: MemoryPersistence;

beforeEach(async () => {
  persistence = new MemoryPersistence();
  fs = new FS(persistence);
  await fs.transaction(meta(), async (wd) => {
    await wd.createFile("/data/2024/a.csv", "file:data", text("a"), { parents: true });
    await wd.createFile("/data/2024/b.csv", "file:data", text("b"));
    await wd.createFile("/data/2025/c.csv", "file:data", text("c"), { parents: true });
    await wd.createFile("/data/notes.txt", "file:data", text("n"));
    await wd.createFile("/data/.secret", "file:data", text("s"));
    await wd.mkdir("/.cache");
    await wd.createFile("/.cache/x", "file:data", text("x"));
    await wd.mkdir("/empty");
    await wd.symlink("/data/2024", "/latest");
  });
});

describe("WD", () => {
  test("resolve() returns the root with its own id as parent", async () => {
    const wd = await fs.view();
    expect(await wd.resolve("/")).toEqual({ path: "/", parentId: ROOT_ID, nodeId: ROOT_ID, entryType: "directory", versionLastModified: 1 });
  });

  test("resolve() takes relative paths from cwd", async () => {
    const wd = new WD(await persistence.view(), "/data");
    expect((await wd.resolve("2024/a.csv"))!.path).toBe("/data/2024/a.csv");
    expect((await wd.resolve("../latest"))!.entryType).toBe("symlink");
    expect((await wd.resolve("../latest/b.csv"))!.path).toBe("/data/2024/b.csv");
  });

  test("resolve() returns null when a name on the way is a file", async () => {
    expect(await (await fs.view()).resolve("/data/notes.txt/x")).toBeNull();
  });

  test("stat() throws WrongTypeError naming the file when a path goes through it", async () => {
    const e = await rejection((await fs.view()).stat("/data/notes.txt/x"));
    expect(e.code).toBe("wrong_type");
    expect(e.message).toContain('"/data/notes.txt"');
  });

  test("stat() follows a final symlink unless told not to", async () => {
    const wd = await fs.view();
    expect((await wd.stat("/latest")).path).toBe("/data/2024");
    expect((await wd.stat("/latest", { followSymlinks: false })).entryType).toBe("symlink");
    expect((await wd.stat("/latest", { followSymlinks: false })).versions!.length).toBe(1);
  });

  test("stat() of a dangling symlink throws NotFoundError naming both paths", async () => {
    await fs.transaction(meta(), (wd) => wd.symlink("/gone", "/dangling"));
    const e = await rejection((await fs.view()).stat("/dangling"));
    expect(e.code).toBe("not_found");
    expect(e.message).toBe('"/dangling" (it leads to "/gone") does not exist');
  });

  test("resolve() throws SymlinkLoopError after 40 links and follows a chain of 40", async () => {
    await fs.transaction(meta(), async (wd) => {
      await wd.mkdir("/chain");
      await wd.createFile("/chain/end", "file:data", text("end"));
      // l0 -> l1 -> … -> l39 -> end: 40 links.
      for (let i = 0; i < SYMLINK_LIMIT; i++) await wd.symlink(i === SYMLINK_LIMIT - 1 ? "end" : `l${i + 1}`, `/chain/l${i}`);
      await wd.symlink("l0", "/chain/one-more");
    });
    const wd = await fs.view();
    expect(decode(await wd.readAll("/chain/l0"))).toBe("end");
    const e = await rejection(wd.readAll("/chain/one-more"));
    expect(e.code).toBe("symlink_loop");
    expect(e.message).toContain('"/chain/one-more"');
  });

  test("list() of a file throws WrongTypeError and of a missing path NotFoundError", async () => {
    const wd = await fs.view();
    expect((await rejection(wd.list("/data/notes.txt"))).code).toBe("wrong_type");
    expect((await rejection(wd.list("/nope"))).code).toBe("not_found");
  });

  test("list() gives paths under the directory as written, symlinks followed", async () => {
    const wd = await fs.view();
    expect((await wd.list("/latest")).map((e) => e.path)).toEqual(["/latest/a.csv", "/latest/b.csv"]);
  });

  test("walk() is depth first, sorted by name, and does not follow symlinks", async () => {
    const wd = await fs.view();
    const paths: string[] = [];
    for await (const w of wd.walk("/")) paths.push(w.path);
    expect(paths).toEqual([
      "/.cache",
      "/.cache/x",
      "/data",
      "/data/.secret",
      "/data/2024",
      "/data/2024/a.csv",
      "/data/2024/b.csv",
      "/data/2025",
      "/data/2025/c.csv",
      "/data/notes.txt",
      "/empty",
      "/latest",
    ]);
  });

  test("walk() skips a directory's contents when descend returns false", async () => {
    const wd = await fs.view();
    const paths: string[] = [];
    for await (const w of wd.walk("/data", { descend: (x) => x.entry.name !== "2024" })) paths.push(w.path);
    expect(paths).toEqual(["/data/.secret", "/data/2024", "/data/2025", "/data/2025/c.csv", "/data/notes.txt"]);
  });

  test("walk() of a file throws WrongTypeError", async () => {
    const wd = await fs.view();
    const it = wd.walk("/data/notes.txt")[Symbol.asyncIterator]();
    expect((await rejection(it.next())).code).toBe("wrong_type");
  });

  test("glob() starts at the literal prefix and only lists directories that can match", async () => {
    const view = counting(await persistence.view());
    const wd = new WD(view);
    const got: string[] = [];
    for await (const m of wd.glob("/data/2024/*.csv")) got.push(m.path);
    expect(got).toEqual(["/data/2024/a.csv", "/data/2024/b.csv"]);
    // root, /data, /data/2024: nothing else.
    expect(view.calls.listDir).toBe(3);
  });

  test("glob() prunes directories that cannot hold a match", async () => {
    const view = counting(await persistence.view());
    const got: string[] = [];
    for await (const m of new WD(view).glob("/*/2025/*")) got.push(m.path);
    expect(got).toEqual(["/data/2025/c.csv"]);
    // root, /data, /empty, /data/2025 (/data/2024 does not match "2025"; dot dirs are skipped).
    expect(view.calls.listDir).toBe(4);
  });

  test("glob() matches dot names only with dot", async () => {
    const wd = await fs.view();
    const plain: string[] = [];
    for await (const m of wd.glob("/**/x")) plain.push(m.path);
    const dotted: string[] = [];
    for await (const m of wd.glob("/**/x", { dot: true })) dotted.push(m.path);
    expect([plain, dotted]).toEqual([[], ["/.cache/x"]]);
  });

  test("glob() follows a symlink in the literal prefix and reports paths as written", async () => {
    const wd = await fs.view();
    const got: string[] = [];
    for await (const m of wd.glob("/latest/*")) got.push(m.path);
    expect(got).toEqual(["/latest/a.csv", "/latest/b.csv"]);
  });

  test("glob() returns results sorted by path", async () => {
    await fs.transaction(meta(), async (wd) => {
      await wd.createFile("/s/a.b", "file:data", text(""), { parents: true });
      await wd.createFile("/s/a/c", "file:data", text(""), { parents: true });
    });
    const got: string[] = [];
    for await (const m of (await fs.view()).glob("/s/**")) got.push(m.path);
    expect(got).toEqual(["/s", "/s/a", "/s/a.b", "/s/a/c"]);
  });

  test("the directory cache serves repeated lookups without asking the view again", async () => {
    const view = counting(await persistence.view());
    const wd = new WD(view);
    await wd.stat("/data/2024/a.csv");
    const after = view.calls.listDir;
    await wd.stat("/data/2024/b.csv");
    await wd.list("/data/2024");
    expect(view.calls.listDir).toBe(after);
    const sub = await wd.cd("/data");
    await sub.resolve("2025");
    expect(view.calls.listDir).toBe(after);
  });

  test("a transaction WD updates its cache with each write", async () => {
    await fs.transaction(meta(), async (wd) => {
      expect((await wd.list("/empty")).length).toBe(0);
      await wd.createFile("/empty/new", "file:data", text("1"));
      expect((await wd.list("/empty")).map((e) => e.name)).toEqual(["new"]);
      expect((await wd.stat("/empty/new")).versions!.length).toBe(1);
      await wd.createFile("/empty/new", "file:data", text("2"));
      expect((await wd.stat("/empty/new")).versions!.length).toBe(2);
      expect((await wd.list("/empty"))[0]!.versionLastModified).toBe(2);
      // The backend sees the same snapshot the WD wrote.
      const st = await wd.stat("/empty");
      expect((await wd.view.listDir(st.nodeId))[0]!.versionLastModified).toBe(2);
    });
  });

  test("a read-only WD throws ReadOnlyError on writes", async () => {
    const wd = await fs.view();
    expect(wd.writable).toBe(false);
    expect((await rejection(wd.mkdir("/x"))).code).toBe("read_only");
    expect((await rejection(wd.createFile("/x", "file:data", text("")))).code).toBe("read_only");
    expect((await rejection(wd.symlink("/a", "/x"))).code).toBe("read_only");
  });

  test("isTransaction() tells a transaction from a view", async () => {
    expect(isTransaction(await persistence.view())).toBe(false);
    const txn = await persistence.begin(meta());
    expect(isTransaction(txn)).toBe(true);
    await txn.abort();
  });

  test("mkdir() AlreadyExistsError hint for a file says to pick another name", async () => {
    const e = await rejection(fs.transaction(meta(), (wd) => wd.mkdir("/data/notes.txt")));
    expect([e.code, e.hint]).toEqual(["already_exists", "Choose another name."]);
  });

  test("mkdir() returns the existing directory with parents", async () => {
    const { result } = await fs.transaction(meta(), (wd) => wd.mkdir("/data", { parents: true }));
    expect(result.path).toBe("/data");
    expect(result.nodeId).toBe((await (await fs.view()).stat("/data")).nodeId);
  });

  test("mkdir() through a symlinked directory creates inside its target", async () => {
    await fs.transaction(meta(), (wd) => wd.mkdir("/latest/sub"));
    expect((await (await fs.view()).stat("/data/2024/sub")).entryType).toBe("directory");
  });

  test("createFile() writes through a symlink to its target", async () => {
    await fs.transaction(meta(), async (wd) => {
      await wd.symlink("data/notes.txt", "/notes");
      const r = await wd.createFile("/notes", "file:data", text("updated"));
      expect([r.created, r.resolved.path, r.version.version]).toEqual([false, "/data/notes.txt", 2]);
    });
    expect(decode(await (await fs.view()).readAll("/data/notes.txt"))).toBe("updated");
  });

  test("createFile() rejects a path with a trailing slash and the root", async () => {
    await fs.transaction(meta(), async (wd) => {
      expect((await rejection(wd.createFile("/x/", "file:data", text("")))).code).toBe("invalid_path");
      expect((await rejection(wd.createFile("/", "file:data", text("")))).code).toBe("wrong_type");
    });
  });

  test("createFile() keeps VersionOptions and drops parents", async () => {
    const { result } = await fs.transaction(meta(), (wd) =>
      wd.createFile("/new/s", "file:series", text("pq"), { parents: true, minEventTime: 1n, maxEventTime: 2n, attributes: { timestamp_column: "ts" } }),
    );
    expect([result.version.minEventTime, result.version.maxEventTime, result.version.attributes]).toEqual([1n, 2n, { timestamp_column: "ts" }]);
  });

  test("createFile() of a symlink type adds a version to an existing link instead of following it", async () => {
    await fs.transaction(meta(), (wd) => wd.createFile("/latest", "symlink", text("/data/2025")));
    const wd = await fs.view();
    expect(await wd.readlink("/latest")).toBe("/data/2025");
    expect((await wd.list("/latest")).map((e) => e.name)).toEqual(["c.csv"]);
  });

  test("symlink() throws AlreadyExistsError when the path exists", async () => {
    const e = await rejection(fs.transaction(meta(), (wd) => wd.symlink("/x", "/data")));
    expect(e.code).toBe("already_exists");
  });

  test("readlink() of a file throws WrongTypeError", async () => {
    expect((await rejection((await fs.view()).readlink("/data/notes.txt"))).code).toBe("wrong_type");
  });

  test("read() of a missing version names the path and the versions there are", async () => {
    const e = await rejection((await fs.view()).readAll("/data/notes.txt", { version: 2 }));
    expect(e.message).toBe('Version 2 of "/data/notes.txt" does not exist');
    expect(e.hint).toContain("versions 1 to 1");
  });

  test("cd() throws WrongTypeError for a file and returns a WD at the directory", async () => {
    const wd = await fs.view();
    expect((await rejection(wd.cd("/data/notes.txt"))).code).toBe("wrong_type");
    const sub = await wd.cd("/data/2024");
    expect(sub.cwd).toBe("/data/2024");
    expect(decode(await sub.readAll("a.csv"))).toBe("a");
  });

  test("exists() is true for entries, including dangling symlinks", async () => {
    await fs.transaction(meta(), (wd) => wd.symlink("/gone", "/dangling"));
    const wd = await fs.view();
    expect([await wd.exists("/data"), await wd.exists("/dangling"), await wd.exists("/nope")]).toEqual([true, true, false]);
  });
});

describe("FS", () => {
  test("FS.transaction() returns the callback's result and the committed sequence", async () => {
    const r = await fs.transaction(meta(), async () => 42);
    expect(r).toEqual({ result: 42, seq: 2 });
  });

  test("FS.view() and FS.transaction() take a cwd", async () => {
    expect((await fs.view(undefined, "/data")).cwd).toBe("/data");
    await fs.transaction(meta(), (wd) => wd.createFile("rel.txt", "file:data", text("r")), "/data");
    expect(decode(await (await fs.view()).readAll("/data/rel.txt"))).toBe("r");
  });
});

describe("WD names", () => {
  test.each([
    ["a newline", "a\nb"],
    ["a tab", "a\tb"],
    ["an ESC", "a\u001b[31mb"],
    ["the control character U+007F", "a\u007fb"],
    ["not valid UTF-8", "a\ud800b"],
    ["not valid UTF-8", "a\ufffdb"],
  ])("createFile() and mkdir() refuse a name with %s", async (reason, name) => {
    const e = await rejection(fs.transaction(meta(), (wd) => wd.createFile(`/data/${name}`, "file:data", text("x"))));
    expect(e.code).toBe("invalid_name");
    expect(e.message).toContain(reason);
    expect((await rejection(fs.transaction(meta(), (wd) => wd.mkdir(`/${name}`)))).code).toBe("invalid_name");
    expect((await (await fs.view()).list("/data")).map((x) => x.name)).not.toContain(name);
  });
  test("a name an older pond already holds is listed, gets new versions and can be renamed", async () => {
    // Written below the WD, as an older pond without the check would have stored it.
    const txn = await persistence.begin(meta());
    const nodeId = txn.newNodeId();
    await txn.addVersion(ROOT_ID, nodeId, "file:data", text("old"));
    await txn.writeDir(
      ROOT_ID,
      [...(await txn.listDir(ROOT_ID)), { name: "bad\nname", childNodeId: nodeId, entryType: "file:data" as const, versionLastModified: 1 }].sort((a, b) =>
        a.name < b.name ? -1 : 1,
      ),
    );
    await txn.commit();
    expect((await (await fs.view()).list("/")).map((x) => x.name)).toContain("bad\nname");
    await fs.transaction(meta(), (wd) => wd.createFile("/bad\nname", "file:data", text("newer")));
    await fs.transaction(meta(), (wd) => wd.rename("/bad\nname", "/good-name"));
    const names = (await (await fs.view()).list("/")).map((x) => x.name);
    expect(names).toContain("good-name");
    expect(names).not.toContain("bad\nname");
  });
});
