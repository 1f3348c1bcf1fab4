/** Removes, renames and node moves every Persistence backend must get right (part of runPersistenceContract). */
import { describe, expect, test } from "bun:test";
import type { Persistence } from "./persistence.ts";
import { ROOT_ID } from "./types.ts";
import { FS } from "./fs.ts";
import type { WD } from "./wd.ts";
import { InvalidMoveError, InvalidPathError, IsDirectoryError, NotFoundError } from "./errors.ts";
import { randomBytes } from "./random.ts";
import { meta, text, decode, expectError, useFreshBackend, type MakeBackend } from "./contract-kit.ts";

/** remove(), rename() and moveNode() through FS and WD, on one backend. */
export function runRemoveRenameContract(name: string, make: MakeBackend): void {
  let persistence!: Persistence;
  const setup = () =>
    useFreshBackend(make, (p) => {
      persistence = p;
    });

  describe(`remove and rename contract: ${name}`, () => {
    setup();
    const fs = () => new FS(persistence);
    const write = <T>(fn: (wd: WD) => Promise<T>) => fs().transaction(meta(), fn);
    const seqNow = async () => (await persistence.view()).seq;

    test("moveNode() throws NotFoundError when the node is not under that parent", async () => {
      const txn = await persistence.begin(meta());
      await expectError(txn.moveNode(ROOT_ID, ROOT_ID, "01890000-0000-7000-8000-000000000003"), NotFoundError, "not_found");
      await txn.abort();
    });

    test("remove() drops a file from the tree; earlier views still read every version", async () => {
      await write((wd) => wd.createFile("/f", "file:data", text("one")));
      await write((wd) => wd.createFile("/f", "file:data", text("two")));
      const before = await seqNow();
      await write((wd) => wd.remove("/f"));
      const wd = await fs().view();
      expect(await wd.exists("/f")).toBe(false);
      expect(await wd.list("/")).toEqual([]);
      const old = await fs().view(before);
      expect(decode(await old.readAll("/f", { version: 1 }))).toBe("one");
      expect((await old.stat("/f")).versions!.map((v) => v.version)).toEqual([1, 2]);
    });

    test("remove() throws IsDirectoryError with the -r hint for a directory unless recursive, and changes nothing", async () => {
      await write(async (wd) => {
        await wd.mkdir("/d/e", { parents: true });
        await wd.createFile("/d/e/f", "file:data", text("x"));
      });
      const before = await seqNow();
      const e = await expectError(
        write((wd) => wd.remove("/d")),
        IsDirectoryError,
        "is_directory",
      );
      expect(e.message).toContain('"/d"');
      expect(e.hint).toContain("pond rm -r /d");
      expect(await seqNow()).toBe(before);
      await write((wd) => wd.remove("/d", { recursive: true }));
      const wd = await fs().view();
      expect(await wd.exists("/d")).toBe(false);
      expect(decode(await (await fs().view(before)).readAll("/d/e/f"))).toBe("x");
    });

    test("remove() throws NotFoundError naming a missing path, InvalidPathError for the root", async () => {
      const e = await expectError(
        write((wd) => wd.remove("/nope")),
        NotFoundError,
        "not_found",
      );
      expect(e.message).toContain('"/nope"');
      await expectError(
        write((wd) => wd.remove("/", { recursive: true })),
        InvalidPathError,
        "invalid_path",
      );
      expect(await seqNow()).toBe(0);
    });

    test("remove() of a symlink removes the link, not its target", async () => {
      await write(async (wd) => {
        await wd.createFile("/t", "file:data", text("target"));
        await wd.symlink("/t", "/l");
      });
      await write((wd) => wd.remove("/l"));
      const wd = await fs().view();
      expect(await wd.exists("/l")).toBe(false);
      expect(decode(await wd.readAll("/t"))).toBe("target");
    });

    test("rename() in one directory keeps the node id and every version", async () => {
      const { result: created } = await write((wd) => wd.createFile("/a", "file:data", text("1")));
      await write((wd) => wd.createFile("/a", "file:data", text("2")));
      const before = (await (await fs().view()).stat("/a")).versions!;
      await write((wd) => wd.rename("/a", "/b"));
      const wd = await fs().view();
      expect(await wd.exists("/a")).toBe(false);
      const st = await wd.stat("/b");
      expect(st.nodeId).toBe(created.resolved.nodeId);
      expect(st.versions!.map((v) => [v.version, v.sha256, v.timestamp, v.txnSeq])).toEqual(before.map((v) => [v.version, v.sha256, v.timestamp, v.txnSeq]));
      expect(decode(await wd.readAll("/b", { version: 1 }))).toBe("1");
    });

    test("rename() to another directory keeps the node id, versions and their sequences; a new version continues the numbering", async () => {
      await write(async (wd) => {
        await wd.mkdir("/x");
        await wd.mkdir("/y");
        await wd.createFile("/x/f", "file:data", text("1"));
      });
      await write((wd) => wd.createFile("/x/f", "file:data", randomBytes(70_000, 7)));
      const before = await (await fs().view()).stat("/x/f");
      await write((wd) => wd.rename("/x/f", "/y/g"));
      let wd = await fs().view();
      const st = await wd.stat("/y/g");
      expect(st.nodeId).toBe(before.nodeId);
      expect(st.versions!.map((v) => [v.version, v.sha256, v.size, v.timestamp, v.txnSeq])).toEqual(
        before.versions!.map((v) => [v.version, v.sha256, v.size, v.timestamp, v.txnSeq]),
      );
      expect(decode(await wd.readAll("/y/g", { version: 1 }))).toBe("1");
      expect(await wd.readAll("/y/g")).toEqual(randomBytes(70_000, 7));
      await write((wd) => wd.createFile("/y/g", "file:data", text("3")));
      wd = await fs().view();
      expect((await wd.stat("/y/g")).versions!.map((v) => v.version)).toEqual([1, 2, 3]);
      expect(await wd.list("/x")).toEqual([]);
    });

    test("rename() moves a file and back, and moves it twice in one transaction, without doubling versions", async () => {
      await write(async (wd) => {
        await wd.mkdir("/x");
        await wd.mkdir("/y");
        await wd.createFile("/x/f", "file:data", text("1"));
      });
      await write((wd) => wd.rename("/x/f", "/y/f"));
      await write((wd) => wd.rename("/y/f", "/x/f"));
      await write(async (wd) => {
        await wd.rename("/x/f", "/y/f");
        await wd.rename("/y/f", "/f");
        await wd.createFile("/f", "file:data", text("2"));
      });
      const wd = await fs().view();
      expect((await wd.stat("/f")).versions!.map((v) => v.version)).toEqual([1, 2]);
      await write((wd) => wd.rename("/f", "/x/f"));
      expect((await (await fs().view()).stat("/x/f")).versions!.map((v) => v.version)).toEqual([1, 2]);
    });

    test("rename() moves a directory whole: its children keep their ids and contents", async () => {
      await write(async (wd) => {
        await wd.mkdir("/a/sub", { parents: true });
        await wd.createFile("/a/sub/f", "file:data", text("deep"));
        await wd.mkdir("/b");
      });
      const f = await (await fs().view()).stat("/a/sub/f");
      await write((wd) => wd.rename("/a", "/b/a2"));
      const wd = await fs().view();
      expect(await wd.exists("/a")).toBe(false);
      const g = await wd.stat("/b/a2/sub/f");
      expect([g.nodeId, g.parentId]).toEqual([f.nodeId, f.parentId]);
      expect(decode(await wd.readAll("/b/a2/sub/f"))).toBe("deep");
    });

    test("rename() replaces a file of the same type and refuses another type or a directory with InvalidMoveError", async () => {
      await write(async (wd) => {
        await wd.createFile("/a", "file:data", text("a"));
        await wd.createFile("/b", "file:data", text("b"));
        await wd.createFile("/t", "file:table", text("not really parquet"));
        await wd.mkdir("/d");
      });
      const before = await seqNow();
      const e = await expectError(
        write((wd) => wd.rename("/a", "/t")),
        InvalidMoveError,
        "invalid_move",
      );
      expect(e.message).toContain('"/t"');
      await expectError(
        write((wd) => wd.rename("/a", "/d")),
        InvalidMoveError,
        "invalid_move",
      );
      expect(await seqNow()).toBe(before);
      await write((wd) => wd.rename("/a", "/b"));
      const wd = await fs().view();
      expect(decode(await wd.readAll("/b"))).toBe("a");
      expect((await wd.list("/")).map((x) => x.name)).toEqual(["b", "d", "t"]);
    });

    test("rename() refuses a directory into itself or the root with InvalidMoveError, a missing source or parent with NotFoundError", async () => {
      await write((wd) => wd.mkdir("/a/b", { parents: true }));
      const before = await seqNow();
      const e = await expectError(
        write((wd) => wd.rename("/a", "/a/b/c")),
        InvalidMoveError,
        "invalid_move",
      );
      expect(e.message).toContain("into itself");
      await expectError(
        write((wd) => wd.rename("/a", "/a/x")),
        InvalidMoveError,
        "invalid_move",
      );
      await expectError(
        write((wd) => wd.rename("/", "/z")),
        InvalidMoveError,
        "invalid_move",
      );
      await expectError(
        write((wd) => wd.rename("/nope", "/z")),
        NotFoundError,
        "not_found",
      );
      const m = await expectError(
        write((wd) => wd.rename("/a", "/no/such")),
        NotFoundError,
        "not_found",
      );
      expect(m.message).toContain('"/no"');
      expect(await seqNow()).toBe(before);
    });

    test("rename() moves a symlink itself, which still resolves", async () => {
      await write(async (wd) => {
        await wd.createFile("/t", "file:data", text("T"));
        await wd.mkdir("/d");
        await wd.symlink("/t", "/l");
      });
      await write((wd) => wd.rename("/l", "/d/l2"));
      const wd = await fs().view();
      expect(await wd.readlink("/d/l2")).toBe("/t");
      expect(decode(await wd.readAll("/d/l2"))).toBe("T");
    });
  });
}
