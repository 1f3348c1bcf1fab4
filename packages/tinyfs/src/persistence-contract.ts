/**
 * The shared test suite every Persistence must pass: the clauses of the contract in
 * `persistence.ts`, then the FS/WD behaviour through that backend. It uses only the
 * public interfaces, so it runs unchanged against memory and disk backends.
 *
 * `make` must return a new, freshly initialized, empty pond for each test (sequence 0,
 * an empty root), on the real clock; `cleanup` (if any) runs after the test.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { PondError } from "@pond/diagnostics";
import type { Persistence, ReadView, Transaction } from "./persistence.ts";
import { newTxnMeta } from "./txn-meta.ts";
import { ROOT_ID, type DirEntry, type NodeId, type TxnMeta } from "./types.ts";
import { isUuid7 } from "./uuid7.ts";
import { FS, type WD } from "./wd.ts";
import { DuplicateNameError, InvalidMoveError, InvalidPathError, IsDirectoryError, NotFoundError, TransactionClosedError } from "./errors.ts";
import { listPattern } from "./list-pattern.ts";
import { randomBytes } from "./random.ts";

export { SEED_VARIABLE, randomBytes, randomFrom, seededRandom, type Random } from "./random.ts";

export function runPersistenceContract(name: string, make: () => Promise<{ persistence: Persistence; cleanup?: () => Promise<void> }>): void {
  let persistence: Persistence;
  let cleanup: (() => Promise<void>) | undefined;

  const setup = () => {
    beforeEach(async () => {
      ({ persistence, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
  };

  /** Runs `fn` in a transaction and commits it; resolves to the committed sequence. */
  async function commitWith(fn: (txn: Transaction) => Promise<void>): Promise<number> {
    const txn = await persistence.begin(meta());
    await fn(txn);
    return txn.commit();
  }

  /** Writes one file:data node in the root, committed. */
  async function writeRootFile(fileName: string, ...contents: Uint8Array[]): Promise<{ nodeId: NodeId; seq: number }> {
    let nodeId = "";
    const seq = await commitWith(async (txn) => {
      nodeId = txn.newNodeId();
      let last = 0;
      for (const c of contents) last = (await txn.addVersion(ROOT_ID, nodeId, "file:data", c)).version;
      await txn.writeDir(ROOT_ID, [{ name: fileName, childNodeId: nodeId, entryType: "file:data", versionLastModified: last }]);
    });
    return { nodeId, seq };
  }

  describe(`Persistence contract: ${name}`, () => {
    setup();

    test("view() of a fresh backend is sequence 0 with an empty root", async () => {
      const v = await persistence.view();
      expect(v.seq).toBe(0);
      expect(await v.listDir(ROOT_ID)).toEqual([]);
      expect((await persistence.view(0)).seq).toBe(0);
    });

    test("listDir() throws NotFoundError when the directory is unknown", async () => {
      await expectCode((await persistence.view()).listDir("01890000-0000-7000-8000-000000000001"), "not_found");
    });

    test("versions() and read() throw NotFoundError when the node is unknown", async () => {
      const v = await persistence.view();
      const unknown = "01890000-0000-7000-8000-000000000002";
      await expectCode(v.versions(ROOT_ID, unknown), "not_found");
      await expectCode(readBytes(v, ROOT_ID, unknown), "not_found");
    });

    test("newNodeId() returns distinct UUIDv7 ids", async () => {
      const txn = await persistence.begin(meta());
      const ids = Array.from({ length: 100 }, () => txn.newNodeId());
      expect(new Set(ids).size).toBe(100);
      expect(ids.every(isUuid7)).toBe(true);
      await txn.abort();
    });

    test("commit() returns the next sequence number, one per commit, and view() shows it", async () => {
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) seqs.push(await commitWith(async () => {}));
      expect(seqs).toEqual([1, 2, 3]);
      expect((await persistence.view()).seq).toBe(3);
    });

    test("addVersion() returns version 1 with size, sha256 and a µs timestamp from now", async () => {
      const bytes = text("hello, pond\n");
      const before = BigInt(Date.now()) * 1000n;
      const txn = await persistence.begin(meta());
      const info = await txn.addVersion(ROOT_ID, txn.newNodeId(), "file:data", bytes);
      expect(info.version).toBe(1);
      expect(info.size).toBe(bytes.length);
      expect(info.sha256).toBe(sha256(bytes));
      expect(typeof info.timestamp).toBe("bigint");
      const day = 86_400_000_000n;
      expect(info.timestamp > before - day && info.timestamp < before + day).toBe(true);
      expect(info.txnSeq).toBeUndefined();
      await txn.abort();
    });

    test("versions() are ascending 1..n without gaps, across and within transactions", async () => {
      const { nodeId } = await writeRootFile("f", text("v1"), text("v2"));
      await commitWith(async (txn) => {
        await txn.addVersion(ROOT_ID, nodeId, "file:data", text("v3"));
        await txn.addVersion(ROOT_ID, nodeId, "file:data", text("v4"));
      });
      const seq = await commitWith(async (txn) => {
        await txn.addVersion(ROOT_ID, nodeId, "file:data", text("v5"));
      });
      const v = await persistence.view();
      const versions = await v.versions(ROOT_ID, nodeId);
      expect(versions.map((x) => x.version)).toEqual([1, 2, 3, 4, 5]);
      expect(versions[4]!.txnSeq).toBe(seq);
      expect(versions[0]!.txnSeq).toBe(1);
      for (let i = 1; i <= 5; i++) expect(await readText(v, ROOT_ID, nodeId, i)).toBe(`v${i}`);
      expect(await readText(v, ROOT_ID, nodeId)).toBe("v5");
    });

    test("read() throws NotFoundError when the version is missing", async () => {
      const { nodeId } = await writeRootFile("f", text("a"), text("b"));
      const v = await persistence.view();
      await expectCode(readBytes(v, ROOT_ID, nodeId, 3), "not_found");
      await expectCode(readBytes(v, ROOT_ID, nodeId, 0), "not_found");
    });

    test("versions() throws NotFoundError when the node is addressed under another parent", async () => {
      const { nodeId } = await writeRootFile("f", text("a"));
      await expectCode((await persistence.view()).versions("01890000-0000-7000-8000-000000000003", nodeId), "not_found");
    });

    test("addVersion() keeps the attributes and event times it was given", async () => {
      let nodeId = "";
      await commitWith(async (txn) => {
        nodeId = txn.newNodeId();
        await txn.addVersion(ROOT_ID, nodeId, "file:data", text("x"), {
          minEventTime: 1_700_000_000_000_000n,
          maxEventTime: 1_700_000_360_000_000n,
          attributes: { timestamp_column: "ts", n: 3 },
        });
        await txn.writeDir(ROOT_ID, [{ name: "s", childNodeId: nodeId, entryType: "file:data", versionLastModified: 1 }]);
      });
      const [info] = await (await persistence.view()).versions(ROOT_ID, nodeId);
      expect(info!.minEventTime).toBe(1_700_000_000_000_000n);
      expect(info!.maxEventTime).toBe(1_700_000_360_000_000n);
      expect(info!.attributes).toEqual({ timestamp_column: "ts", n: 3 });
    });

    test("addVersion() throws TypeChangeError when the node has another entry type", async () => {
      const { nodeId } = await writeRootFile("f", text("a"));
      const txn = await persistence.begin(meta());
      await expectCode(txn.addVersion(ROOT_ID, nodeId, "symlink", text("/x")), "type_change");
      const fresh = txn.newNodeId();
      await txn.addVersion(ROOT_ID, fresh, "file:data", text("a"));
      await expectCode(txn.addVersion(ROOT_ID, fresh, "file:table", text("b")), "type_change");
      await txn.abort();
    });

    test("addVersion() keeps its own copy when the caller reuses the buffer (Uint8Array, Buffer, stream chunks)", async () => {
      const plain = text("original");
      const buffer = Buffer.from("a buffer");
      const ids: NodeId[] = [];
      await commitWith(async (txn) => {
        const entries: DirEntry[] = [];
        for (const [i, content] of [plain, buffer, reusingOneBuffer(["abc", "def", "gh"])].entries()) {
          const id = txn.newNodeId();
          ids.push(id);
          await txn.addVersion(ROOT_ID, id, "file:data", content);
          entries.push(entry(`f${i}`, id, "file:data"));
        }
        for (const b of [plain, buffer]) b.fill(0x21);
        await txn.writeDir(ROOT_ID, entries);
      });
      const v = await persistence.view();
      expect(await Promise.all(ids.map((id) => readText(v, ROOT_ID, id)))).toEqual(["original", "a buffer", "abcdefgh"]);
    });

    test("addVersion() reads an AsyncIterable content stream", async () => {
      const data = randomBytes(100_000, 11);
      let nodeId = "";
      await commitWith(async (txn) => {
        nodeId = txn.newNodeId();
        const info = await txn.addVersion(ROOT_ID, nodeId, "file:data", chunked(data, [1, 999, 50_000]));
        expect(info.size).toBe(data.length);
        expect(info.sha256).toBe(sha256(data));
        await txn.writeDir(ROOT_ID, [{ name: "f", childNodeId: nodeId, entryType: "file:data", versionLastModified: 1 }]);
      });
      expect(await readBytes(await persistence.view(), ROOT_ID, nodeId)).toEqual(data);
    });

    test("writeDir() replaces the whole entry list and listDir() returns it sorted by name", async () => {
      let dirId = "";
      await commitWith(async (txn) => {
        dirId = txn.newNodeId();
        const a = entry("a", txn.newNodeId(), "directory");
        const z = entry("z", txn.newNodeId(), "directory");
        const m = entry("m", txn.newNodeId(), "directory");
        for (const e of [a, z, m]) await txn.writeDir(e.childNodeId, []);
        await txn.writeDir(dirId, [z, a]);
        await txn.writeDir(dirId, [z, m, a]);
        await txn.writeDir(ROOT_ID, [entry("d", dirId, "directory")]);
      });
      const names = (await (await persistence.view()).listDir(dirId)).map((e) => e.name);
      expect(names).toEqual(["a", "m", "z"]);
      await commitWith(async (txn) => {
        const entries = await txn.listDir(dirId);
        await txn.writeDir(
          dirId,
          entries.filter((e) => e.name !== "m"),
        );
      });
      expect((await (await persistence.view()).listDir(dirId)).map((e) => e.name)).toEqual(["a", "z"]);
    });

    test("writeDir() rejects an entry list with a name twice as DuplicateNameError", async () => {
      const txn = await persistence.begin(meta());
      const id = txn.newNodeId();
      const e = await expectError(
        txn.writeDir(ROOT_ID, [entry("x", id, "directory"), entry("x", txn.newNodeId(), "directory")]),
        DuplicateNameError,
        "duplicate_name",
      );
      expect([e.kind, e.data.name]).toEqual(["bug", "x"]);
      await txn.abort();
    });

    test("writeDir() rejects a name no path can reach (a '/', empty, '.', '..', NUL) as InvalidPathError", async () => {
      const txn = await persistence.begin(meta());
      for (const bad of ["a/b", "", ".", "..", "a\0b"]) {
        const e = await expectError(txn.writeDir(ROOT_ID, [entry(bad, txn.newNodeId(), "directory")]), InvalidPathError, "invalid_path");
        expect(e.kind).toBe("user");
      }
      await txn.abort();
      expect(await (await persistence.view()).listDir(ROOT_ID)).toEqual([]);
    });

    test("a transaction sees its own writes before commit", async () => {
      const txn = await persistence.begin(meta());
      const nodeId = txn.newNodeId();
      await txn.addVersion(ROOT_ID, nodeId, "file:data", text("mine"));
      await txn.writeDir(ROOT_ID, [entry("f", nodeId, "file:data")]);
      expect((await txn.listDir(ROOT_ID)).map((e) => e.name)).toEqual(["f"]);
      expect((await txn.versions(ROOT_ID, nodeId)).map((v) => v.version)).toEqual([1]);
      expect(await readText(txn, ROOT_ID, nodeId)).toBe("mine");
      await txn.addVersion(ROOT_ID, nodeId, "file:data", text("mine too"));
      expect(await readText(txn, ROOT_ID, nodeId)).toBe("mine too");
      expect(await readText(txn, ROOT_ID, nodeId, 1)).toBe("mine");
      await txn.abort();
    });

    test("a view taken before commit does not see the transaction, one taken after does", async () => {
      const before = await persistence.view();
      const txn = await persistence.begin(meta());
      const nodeId = txn.newNodeId();
      await txn.addVersion(ROOT_ID, nodeId, "file:data", text("x"));
      await txn.writeDir(ROOT_ID, [entry("f", nodeId, "file:data")]);
      const during = await persistence.view();
      expect(await during.listDir(ROOT_ID)).toEqual([]);
      await expectCode(during.versions(ROOT_ID, nodeId), "not_found");
      const seq = await txn.commit();
      expect(await before.listDir(ROOT_ID)).toEqual([]);
      expect(await during.listDir(ROOT_ID)).toEqual([]);
      const after = await persistence.view();
      expect(after.seq).toBe(seq);
      expect((await after.listDir(ROOT_ID)).map((e) => e.name)).toEqual(["f"]);
      expect(await readText(after, ROOT_ID, nodeId)).toBe("x");
    });

    test("abort() leaves the backend as it was", async () => {
      await writeRootFile("keep", text("k"));
      const txn = await persistence.begin(meta());
      const nodeId = txn.newNodeId();
      await txn.addVersion(ROOT_ID, nodeId, "file:data", text("x"));
      await txn.writeDir(ROOT_ID, [...(await txn.listDir(ROOT_ID)), entry("gone", nodeId, "file:data")]);
      await txn.abort();
      const v = await persistence.view();
      expect(v.seq).toBe(1);
      expect((await v.listDir(ROOT_ID)).map((e) => e.name)).toEqual(["keep"]);
      await expectCode(v.versions(ROOT_ID, nodeId), "not_found");
      // The backend goes on normally afterwards.
      expect(await commitWith(async () => {})).toBe(2);
    });

    test("a transaction rejects writes after commit or abort", async () => {
      const txn = await persistence.begin(meta());
      await txn.commit();
      await expectError(txn.writeDir(ROOT_ID, []), TransactionClosedError, "transaction_closed");
      await expectError(txn.addVersion(ROOT_ID, txn.newNodeId(), "file:data", text("x")), TransactionClosedError, "transaction_closed");
      await expectError(txn.moveNode(ROOT_ID, ROOT_ID, txn.newNodeId()), TransactionClosedError, "transaction_closed");
      await expectError(txn.commit(), TransactionClosedError, "transaction_closed");
      const aborted = await persistence.begin(meta());
      await aborted.abort();
      const e = await expectError(aborted.commit(), TransactionClosedError, "transaction_closed");
      expect(e.kind).toBe("bug");
      expect((await persistence.view()).seq).toBe(1);
    });

    test("view(asOf) shows the state as of that sequence", async () => {
      const { nodeId, seq: s1 } = await writeRootFile("f", text("first"));
      const s2 = await commitWith(async (txn) => {
        const info = await txn.addVersion(ROOT_ID, nodeId, "file:data", text("second"));
        await txn.writeDir(ROOT_ID, [entry("f", nodeId, "file:data", info.version)]);
      });
      const old = await persistence.view(s1);
      expect(old.seq).toBe(s1);
      expect((await old.versions(ROOT_ID, nodeId)).map((v) => v.version)).toEqual([1]);
      expect(await readText(old, ROOT_ID, nodeId)).toBe("first");
      expect((await old.listDir(ROOT_ID))[0]!.versionLastModified).toBe(1);
      expect(await (await persistence.view(0)).listDir(ROOT_ID)).toEqual([]);
      const now = await persistence.view(s2);
      expect(await readText(now, ROOT_ID, nodeId)).toBe("second");
    });

    test("view(asOf) rejects a sequence that was never committed", async () => {
      await commitWith(async () => {});
      await expectError(persistence.view(5), NotFoundError, "not_found");
    });

    test("readlink() returns a symlink's newest target", async () => {
      let nodeId = "";
      await commitWith(async (txn) => {
        nodeId = txn.newNodeId();
        await txn.addVersion(ROOT_ID, nodeId, "symlink", text("/a/b"));
        await txn.addVersion(ROOT_ID, nodeId, "symlink", text("../ü c"));
        await txn.writeDir(ROOT_ID, [entry("l", nodeId, "symlink", 2)]);
      });
      expect(await (await persistence.view()).readlink(ROOT_ID, nodeId)).toBe("../ü c");
    });

    test("read() yields Uint8Array chunks that add up to the bytes, for empty content too", async () => {
      const data = randomBytes(300_000, 5);
      const { nodeId } = await writeRootFile("big", data);
      const { nodeId: emptyId } = await writeRootFile("empty", new Uint8Array(0));
      const v = await persistence.view();
      let total = 0;
      for await (const c of v.read(ROOT_ID, nodeId)) {
        expect(c).toBeInstanceOf(Uint8Array);
        total += c.length;
      }
      expect(total).toBe(data.length);
      expect(await readBytes(v, ROOT_ID, emptyId)).toEqual(new Uint8Array(0));
      const [info] = await v.versions(ROOT_ID, emptyId);
      expect([info!.size, info!.sha256]).toEqual([0, sha256(new Uint8Array(0))]);
    });

    test("two transactions on the same state never lose a committed write", async () => {
      const t1 = await persistence.begin(meta());
      const t2 = await persistence.begin(meta());
      for (const [t, n] of [
        [t1, "one"],
        [t2, "two"],
      ] as const) {
        const id = t.newNodeId();
        await t.addVersion(ROOT_ID, id, "file:data", text(n));
        await t.writeDir(ROOT_ID, [...(await t.listDir(ROOT_ID)), entry(n, id, "file:data")]);
      }
      expect(await t1.commit()).toBe(1);
      const second = await t2.commit().then(
        (seq) => ({ ok: true as const, seq }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      const names = (await (await persistence.view()).listDir(ROOT_ID)).map((e) => e.name);
      // A backend may refuse the second commit or merge it; it must not drop "one".
      if (second.ok) {
        expect(second.seq).toBe(2);
        expect(names).toContain("one");
      } else {
        expect(names).toEqual(["one"]);
        expect((await persistence.view()).seq).toBe(1);
      }
    });
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

// ---- helpers ----

function meta(): TxnMeta {
  return newTxnMeta(["pond", "contract-test"], "contract");
}

function entry(name: string, childNodeId: NodeId, entryType: DirEntry["entryType"], versionLastModified = 1): DirEntry {
  return { name, childNodeId, entryType, versionLastModified };
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function decode(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

function sha256(b: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(b).digest("hex");
}

/** Streams `data` in chunks of the given sizes, cycling through them. */
async function* chunked(data: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = sizes[i++ % sizes.length]!;
    yield data.slice(off, off + n);
    off += n;
    await Promise.resolve();
  }
}

/** Streams the pieces through one reused buffer, as a host-file read loop does. */
async function* reusingOneBuffer(pieces: string[]): AsyncIterable<Uint8Array> {
  const buf = new Uint8Array(3);
  for (const p of pieces) {
    const n = new TextEncoder().encodeInto(p, buf).written;
    yield buf.subarray(0, n);
    buf.fill(0x21);
  }
}

async function readBytes(v: ReadView, parentId: NodeId, nodeId: NodeId, version?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of v.read(parentId, nodeId, version)) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

async function readText(v: ReadView, parentId: NodeId, nodeId: NodeId, version?: number): Promise<string> {
  return decode(await readBytes(v, parentId, nodeId, version));
}

/** Awaits `p`, expects it to reject with a PondError of `code`, and returns that error. */
async function expectCode(p: Promise<unknown>, code: string): Promise<PondError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PondError);
  expect((e as PondError).code).toBe(code);
  return e as PondError;
}

/** Awaits `p`, expects it to reject with an instance of `cls` carrying `code`, and returns that error. */
async function expectError(p: Promise<unknown>, cls: new (...args: never[]) => PondError, code: string): Promise<PondError> {
  const e = await expectCode(p, code);
  expect(e).toBeInstanceOf(cls);
  return e;
}
