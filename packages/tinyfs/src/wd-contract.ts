/** The FS/WD behaviour every Persistence backend must give (part of runPersistenceContract). */
import { describe, expect, test } from "bun:test";
import type { Persistence } from "./persistence.ts";
import { ROOT_ID } from "./types.ts";
import { isUuid7 } from "./uuid7.ts";
import { FS } from "./fs.ts";
import type { WD } from "./wd.ts";
import { listPattern } from "./list-pattern.ts";
import { randomBytes } from "./random.ts";
import { meta, text, decode, sha256, chunked, expectCode, useFreshBackend, type MakeBackend } from "./contract-kit.ts";

/** mkdir, files, symlinks, reads, lists, walks and globs through FS and WD, on one backend. */
export function runWdContract(name: string, make: MakeBackend): void {
  let persistence!: Persistence;
  const setup = () =>
    useFreshBackend(make, (p) => {
      persistence = p;
    });

  describe(`FS and WD contract: ${name}`, () => {
    setup();
    const fs = () => new FS(persistence);
    const write = <T>(fn: (wd: WD) => Promise<T>) => fs().transaction(meta(), fn);

    test("mkdir() creates a directory that list() and stat() see after commit", async () => {
      const { seq } = await write((wd) => wd.mkdir("/data"));
      expect(seq).toBe(1);
      const wd = await fs().view();
      const st = await wd.stat("/data");
      expect([st.path, st.entryType, st.parentId]).toEqual(["/data", "directory", ROOT_ID]);
      expect(isUuid7(st.nodeId)).toBe(true);
      expect(await wd.list("/data")).toEqual([]);
      expect((await wd.list("/")).map((e) => [e.name, e.entryType, e.path])).toEqual([["data", "directory", "/data"]]);
    });

    test("mkdir() throws AlreadyExistsError when the directory exists and -p is not given", async () => {
      await write((wd) => wd.mkdir("/d"));
      const e = await expectCode(
        write((wd) => wd.mkdir("/d")),
        "already_exists",
      );
      expect(e.message).toContain('"/d"');
      expect(e.hint).toContain("-p");
    });

    test("mkdir() with parents creates every missing directory and accepts an existing one", async () => {
      await write(async (wd) => {
        await wd.mkdir("/a/b/c", { parents: true });
        await wd.mkdir("/a/b", { parents: true });
        await wd.mkdir("/", { parents: true });
      });
      const wd = await fs().view();
      expect((await wd.stat("/a/b/c")).entryType).toBe("directory");
      expect((await wd.list("/a")).map((e) => e.name)).toEqual(["b"]);
    });

    test("mkdir() with parents throws WrongTypeError when a file is in the way", async () => {
      await write((wd) => wd.createFile("/f", "file:data", text("x")));
      await expectCode(
        write((wd) => wd.mkdir("/f", { parents: true })),
        "wrong_type",
      );
      await expectCode(
        write((wd) => wd.mkdir("/f/sub", { parents: true })),
        "wrong_type",
      );
    });

    test("mkdir() throws NotFoundError naming the parent with a hint to use -p when the parent is missing", async () => {
      const e = await expectCode(
        write((wd) => wd.mkdir("/no/such")),
        "not_found",
      );
      expect(e.message).toContain('"/no"');
      expect(e.hint).toContain("-p");
      expect((await persistence.view()).seq).toBe(0);
    });

    test("createFile() creates version 1, then adds versions ascending to the same node", async () => {
      const r1 = await write((wd) => wd.createFile("/f.txt", "file:data", text("one")));
      expect(r1.result.created).toBe(true);
      expect(r1.result.version.version).toBe(1);
      expect(r1.result.resolved.path).toBe("/f.txt");
      const r2 = await write((wd) => wd.createFile("/f.txt", "file:data", text("two")));
      const r3 = await write((wd) => wd.createFile("/f.txt", "file:data", text("three")));
      expect([r2.result.created, r2.result.version.version, r3.result.version.version]).toEqual([false, 2, 3]);
      expect(r3.result.resolved.nodeId).toBe(r1.result.resolved.nodeId);
      const wd = await fs().view();
      const st = await wd.stat("/f.txt");
      expect(st.versions!.map((v) => v.version)).toEqual([1, 2, 3]);
      expect(st.versionLastModified).toBe(3);
      expect((await wd.list("/"))[0]!.versionLastModified).toBe(3);
      expect(decode(await wd.readAll("/f.txt"))).toBe("three");
      expect(decode(await wd.readAll("/f.txt", { version: 1 }))).toBe("one");
      expect(decode(await wd.readAll("/f.txt", { version: 2 }))).toBe("two");
    });

    test("createFile() round-trips bytes exactly: empty, text, 200 KB binary, 1 MiB stream, odd names", async () => {
      const binary = randomBytes(200 * 1024, 42);
      const streamed = randomBytes(1024 * 1024, 7);
      const cases: Array<[string, Uint8Array]> = [
        ["/empty", new Uint8Array(0)],
        ["/text.csv", text("a,b\n1,2\nü,日本\n")],
        ["/bin/blob.bin", binary],
        ["/with space/Ünïcødé 名前.txt", text("odd names")],
      ];
      await write(async (wd) => {
        for (const [p, bytes] of cases) await wd.createFile(p, "file:data", bytes, { parents: true });
        const r = await wd.createFile("/bin/streamed", "file:data", chunked(streamed, [1, 3, 4093, 65_537, 100_000, 7]));
        expect(r.version.size).toBe(streamed.length);
        expect(r.version.sha256).toBe(sha256(streamed));
      });
      const wd = await fs().view();
      for (const [p, bytes] of cases) {
        const got = await wd.readAll(p);
        expect(got.length).toBe(bytes.length);
        expect(sha256(got)).toBe(sha256(bytes));
        expect((await wd.stat(p)).versions![0]!.sha256).toBe(sha256(bytes));
      }
      expect(sha256(await wd.readAll("/bin/streamed"))).toBe(sha256(streamed));
      expect((await wd.list("/with space")).map((e) => e.name)).toEqual(["Ünïcødé 名前.txt"]);
    });

    test("createFile() throws TypeChangeError when the path holds another file type, and WrongTypeError for a directory", async () => {
      await write(async (wd) => {
        await wd.createFile("/t", "file:data", text("x"));
        await wd.mkdir("/d");
      });
      const e = await expectCode(
        write((wd) => wd.createFile("/t", "file:table", text("y"))),
        "type_change",
      );
      expect(e.message).toContain('"/t"');
      expect(e.hint).toBeTruthy();
      await expectCode(
        write((wd) => wd.createFile("/d", "file:data", text("y"))),
        "wrong_type",
      );
      expect((await persistence.view()).seq).toBe(1);
    });

    test("createFile() throws NotFoundError naming the parent without parents, and creates it with parents", async () => {
      const e = await expectCode(
        write((wd) => wd.createFile("/x/y/f", "file:data", text("z"))),
        "not_found",
      );
      expect(e.message).toContain("/x/y");
      await write((wd) => wd.createFile("/x/y/f", "file:data", text("z"), { parents: true }));
      expect(decode(await (await fs().view()).readAll("/x/y/f"))).toBe("z");
    });

    test("FS.transaction() aborts and rethrows when the callback throws, leaving nothing", async () => {
      await write((wd) => wd.mkdir("/kept"));
      const boom = new Error("boom");
      const err = await write(async (wd) => {
        await wd.mkdir("/lost");
        await wd.createFile("/kept/f", "file:data", text("x"));
        throw boom;
      }).catch((e: unknown) => e);
      expect(err).toBe(boom);
      const wd = await fs().view();
      expect(wd.view.seq).toBe(1);
      expect(await wd.resolve("/lost")).toBeNull();
      expect(await wd.list("/kept")).toEqual([]);
    });

    test("a transaction WD sees its own writes, a view taken before the commit does not", async () => {
      const before = await fs().view();
      const { result } = await write(async (wd) => {
        await wd.mkdir("/d");
        await wd.createFile("/d/f", "file:data", text("inside"));
        const during = await fs().view();
        return {
          own: decode(await wd.readAll("/d/f")),
          ownList: (await wd.list("/d")).map((e) => e.name),
          duringSees: await during.resolve("/d"),
        };
      });
      expect(result).toEqual({ own: "inside", ownList: ["f"], duringSees: null });
      expect(await before.resolve("/d")).toBeNull();
      expect(decode(await (await fs().view()).readAll("/d/f"))).toBe("inside");
    });

    test("FS.view(asOf) shows the pond as of that sequence", async () => {
      const { seq: s1 } = await write((wd) => wd.createFile("/f", "file:data", text("old")));
      await write(async (wd) => {
        await wd.createFile("/f", "file:data", text("new"));
        await wd.mkdir("/later");
      });
      const old = await fs().view(s1);
      expect(decode(await old.readAll("/f"))).toBe("old");
      expect((await old.stat("/f")).versions!.length).toBe(1);
      expect(await old.resolve("/later")).toBeNull();
      expect(decode(await (await fs().view()).readAll("/f"))).toBe("new");
    });

    test("symlink() makes links that readlink() returns and reads follow, absolute and relative", async () => {
      await write(async (wd) => {
        await wd.mkdir("/real/sub", { parents: true });
        await wd.createFile("/real/sub/f", "file:data", text("target"));
        await wd.symlink("/real/sub", "/abs");
        await wd.symlink("sub/f", "/real/rel");
        await wd.symlink("..", "/real/sub/up");
      });
      const wd = await fs().view();
      expect(await wd.readlink("/abs")).toBe("/real/sub");
      expect((await wd.resolve("/abs"))!.entryType).toBe("symlink");
      expect((await wd.resolve("/abs", { followSymlinks: true }))!.path).toBe("/real/sub");
      expect(decode(await wd.readAll("/abs/f"))).toBe("target");
      expect(decode(await wd.readAll("/real/rel"))).toBe("target");
      expect(decode(await wd.readAll("/real/sub/up/sub/f"))).toBe("target");
      expect((await wd.list("/abs")).map((e) => e.name)).toEqual(["f", "up"]);
      const rootEntry = (await wd.list("/")).find((e) => e.name === "abs")!;
      expect(rootEntry.entryType).toBe("symlink");
    });

    test("resolve() throws SymlinkLoopError when links form a loop", async () => {
      await write(async (wd) => {
        await wd.symlink("/b", "/a");
        await wd.symlink("/a", "/b");
      });
      const wd = await fs().view();
      await expectCode(wd.resolve("/a", { followSymlinks: true }), "symlink_loop");
      await expectCode(wd.readAll("/a"), "symlink_loop");
    });

    test("stat(), read(), list() and readlink() throw NotFoundError naming the missing path", async () => {
      await write((wd) => wd.createFile("/f", "file:data", text("x")));
      const wd = await fs().view();
      for (const p of [wd.stat("/nope"), wd.readAll("/nope"), wd.list("/nope"), wd.readlink("/nope"), wd.readAll("/f", { version: 9 })]) {
        const e = await expectCode(p, "not_found");
        expect(e.message).toMatch(/"\/(nope|f)"/);
      }
      expect((await expectCode(wd.stat("/nope"), "not_found")).hint).toContain("pond list");
      expect(await wd.resolve("/nope/deeper")).toBeNull();
    });

    test("read() throws WrongTypeError naming the path when it is a directory", async () => {
      await write((wd) => wd.mkdir("/d"));
      const e = await expectCode((await fs().view()).readAll("/d"), "wrong_type");
      expect(e.message).toContain('"/d"');
    });

    test("walk(), glob() and listPattern() see the committed tree", async () => {
      await write(async (wd) => {
        await wd.createFile("/a/x.csv", "file:data", text("1"), { parents: true });
        await wd.createFile("/a/b/y.csv", "file:data", text("2"), { parents: true });
        await wd.createFile("/a/.hidden", "file:data", text("3"));
        await wd.createFile("/top.txt", "file:data", text("4"));
      });
      const wd = await fs().view();
      const walked: string[] = [];
      for await (const w of wd.walk("/")) walked.push(w.path);
      expect(walked).toEqual(["/a", "/a/.hidden", "/a/b", "/a/b/y.csv", "/a/x.csv", "/top.txt"]);
      const globbed: string[] = [];
      for await (const m of wd.glob("/**/*.csv")) globbed.push(m.path);
      expect(globbed).toEqual(["/a/b/y.csv", "/a/x.csv"]);
      expect((await listPattern(wd, undefined)).map((m) => m.path)).toEqual(["/a", "/a/b", "/a/b/y.csv", "/a/x.csv", "/top.txt"]);
      expect((await listPattern(wd, "/a/", { dot: true })).map((m) => m.path)).toEqual(["/a/.hidden", "/a/b", "/a/x.csv"]);
      const [self] = await listPattern(wd, "/a");
      expect([self!.path, self!.entryType]).toEqual(["/a", "directory"]);
    });
  });
}
