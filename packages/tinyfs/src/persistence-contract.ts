/**
 * The shared test suite every Persistence must pass: the clauses of the contract in
 * `persistence.ts` (here), then the FS/WD behaviour through that backend
 * (wd-contract.ts) and removes and renames (remove-rename-contract.ts). It uses only
 * the public interfaces, so it runs unchanged against memory and disk backends.
 *
 * `make` must return a new, freshly initialized, empty pond for each test (sequence 0,
 * an empty root), on the real clock; `cleanup` (if any) runs after the test.
 */
import { describe, expect, test } from "bun:test";
import type { Persistence } from "./persistence.ts";
import { ROOT_ID, type DirEntry, type NodeId } from "./types.ts";
import { isUuid7 } from "./uuid7.ts";
import { DuplicateNameError, InvalidPathError, NotFoundError, TransactionClosedError } from "./errors.ts";
import { randomBytes } from "./random.ts";
import {
  meta,
  entry,
  text,
  sha256,
  chunked,
  reusingOneBuffer,
  readBytes,
  readText,
  expectCode,
  expectError,
  useFreshBackend,
  commitHelpers,
  type MakeBackend,
} from "./contract-kit.ts";
import { runRemoveRenameContract } from "./remove-rename-contract.ts";
import { runWdContract } from "./wd-contract.ts";

export { SEED_VARIABLE, randomBytes, randomFrom, seededRandom, type Random } from "./random.ts";

export function runPersistenceContract(name: string, make: MakeBackend): void {
  runBackendContract(name, make);
  runWdContract(name, make);
  runRemoveRenameContract(name, make);
}

/** The clauses of the Persistence interface itself (persistence.ts), on one backend. */
export function runBackendContract(name: string, make: MakeBackend): void {
  let persistence!: Persistence;
  const setup = () =>
    useFreshBackend(make, (p) => {
      persistence = p;
    });
  const { commitWith, writeRootFile } = commitHelpers(() => persistence);

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
}
