import { join } from "node:path";
import { expect, test } from "bun:test";
import { isEntryType, type DirEntry } from "@pond/tinyfs";
import { seededRandom } from "../../../test/support/kit.ts";
import { decodeDirectory, encodeDirectory } from "./directory-codec.ts";
import { CorruptLogError } from "./errors.ts";

const ID = (i: number) => `0190a0b0-0000-7000-8000-${String(i).padStart(12, "0")}`;

test("decodeDirectory() returns no entries when the directory was empty", () => {
  const bytes = encodeDirectory([]);
  expect(bytes.length).toBeGreaterThan(0);
  expect(decodeDirectory(bytes)).toEqual([]);
});

test("decodeDirectory() returns the entries in order when names are non-ASCII", () => {
  const entries: DirEntry[] = [
    { name: "données.csv", childNodeId: ID(1), entryType: "file:data", versionLastModified: 3 },
    { name: "日本語", childNodeId: ID(2), entryType: "directory", versionLastModified: 1 },
    { name: "emoji 😀 space", childNodeId: ID(3), entryType: "file:series", versionLastModified: 9_007_199_254_740_991 },
    { name: "link", childNodeId: ID(4), entryType: "symlink", versionLastModified: 1 },
    { name: "t", childNodeId: ID(5), entryType: "file:table", versionLastModified: 2 },
  ];
  expect(decodeDirectory(encodeDirectory(entries))).toEqual(entries);
});

test("decodeDirectory() round-trips 10,000 entries", () => {
  const entries: DirEntry[] = Array.from({ length: 10_000 }, (_, i) => ({
    name: `file-${i}.bin`,
    childNodeId: ID(i),
    entryType: i % 3 === 0 ? "directory" : "file:data",
    versionLastModified: i + 1,
  }));
  expect(decodeDirectory(encodeDirectory(entries))).toEqual(entries);
});

test("encodeDirectory() writes an Arrow IPC stream, not a file", () => {
  const bytes = encodeDirectory([{ name: "a", childNodeId: ID(1), entryType: "file:data", versionLastModified: 1 }]);
  // IPC files start with the magic "ARROW1"; streams start with a continuation marker.
  expect(new TextDecoder().decode(bytes.subarray(0, 6))).not.toBe("ARROW1");
  expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
});

test("decodeDirectory() throws CorruptLogError naming the source when the bytes are garbage", () => {
  for (const garbage of [new TextEncoder().encode("hello, this is not arrow"), new Uint8Array(64).fill(0xff), new Uint8Array(0)]) {
    let err: unknown;
    try {
      decodeDirectory(garbage, "directory 0190 version 2");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptLogError);
    expect((err as CorruptLogError).kind).toBe("integrity");
    expect((err as Error).message).toContain("directory 0190 version 2");
  }
});

test("decodeDirectory() throws CorruptLogError when the stream is truncated", () => {
  const bytes = encodeDirectory([{ name: "a", childNodeId: ID(1), entryType: "file:data", versionLastModified: 1 }]);
  expect(() => decodeDirectory(bytes.subarray(0, bytes.length - 30))).toThrow(CorruptLogError);
});

// The reader is hand-written (see directory-codec.ts); these hold it to apache-arrow.
import * as A from "apache-arrow";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { FIXTURES } from "../../../test/support/fixtures.ts";

const entry = (i: number): DirEntry => ({ name: `n${i}-ü✓`, childNodeId: ID(i), entryType: i % 2 ? "file:data" : "directory", versionLastModified: i * 3 });

test("decodeDirectory() reads several record batches, in order", () => {
  const mk = (from: number, n: number) => A.tableFromIPC(encodeDirectory(Array.from({ length: n }, (_, i) => entry(from + i))));
  const table = mk(0, 3).concat(mk(3, 0), mk(3, 5));
  expect(table.batches.length).toBeGreaterThanOrEqual(2);
  expect(decodeDirectory(A.tableToIPC(table, "stream"))).toEqual(Array.from({ length: 8 }, (_, i) => entry(i)));
});

test("decodeDirectory() refuses a null in any column, naming the row", () => {
  const table = new A.Table({
    name: A.vectorFromArray(["a", null], new A.Utf8()),
    child_node_id: A.vectorFromArray([ID(1), ID(2)], new A.Utf8()),
    entry_type: A.vectorFromArray(["file:data", "file:data"], new A.Utf8()),
    version_last_modified: A.makeVector(new BigInt64Array([1n, 2n])),
  });
  expect(() => decodeDirectory(A.tableToIPC(table, "stream"), "dir X")).toThrow(/dir X has an invalid entry at row 1/);
});

test("decodeDirectory() refuses a column of the wrong type or a missing column", () => {
  const wrong = new A.Table({
    name: A.vectorFromArray(["a"], new A.Utf8()),
    child_node_id: A.vectorFromArray([ID(1)], new A.Utf8()),
    entry_type: A.vectorFromArray(["file:data"], new A.Utf8()),
    version_last_modified: A.makeVector(new Int32Array([1])),
  });
  expect(() => decodeDirectory(A.tableToIPC(wrong, "stream"))).toThrow(/version_last_modified is of type .*not int64/);
  const missing = new A.Table({ name: A.vectorFromArray(["a"], new A.Utf8()) });
  expect(() => decodeDirectory(A.tableToIPC(missing, "stream"))).toThrow(/child_node_id is missing/);
});

test("decodeDirectory() refuses Arrow C++ streams of other layouts (dictionaries, nested, many types) as CorruptLogError", () => {
  const dir = join(FIXTURES, "arrow-ipc/arrow-testing/cpp-21.0.0");
  for (const name of [
    "generated_primitive.stream",
    "generated_dictionary.stream",
    "generated_nested.stream",
    "generated_datetime.stream",
    "generated_null_trivial.stream",
  ]) {
    expect(() => decodeDirectory(new Uint8Array(readFileSync(resolve(dir, name))), name)).toThrow(CorruptLogError);
  }
});

test("decodeDirectory() on 3,000 damaged copies of a stream (seeded): valid entries or CorruptLogError, never another error", () => {
  const rnd = seededRandom("directory-codec fuzz");
  const entries = Array.from({ length: 20 }, (_, i) => entry(i));
  const good = encodeDirectory(entries);
  expect(decodeDirectory(good)).toEqual(entries);
  let refused = 0;
  for (let k = 0; k < 3000; k++) {
    const bad = good.slice(0, k % 7 === 0 ? rnd.int(good.length) : good.length);
    for (let j = 0; j < 1 + (k % 4); j++) bad[rnd.int(bad.length)] = rnd.int(256);
    let got: DirEntry[];
    try {
      got = decodeDirectory(bad, "fuzz");
    } catch (e) {
      // Not a TypeError or any other error of the reader's own: the decoder has no catch-all.
      if (!(e instanceof CorruptLogError)) throw new Error(`copy ${k} (seed ${rnd.seed}): ${(e as Error)?.stack ?? e}`);
      expect((e as CorruptLogError).code).toBe("corrupt_log");
      refused++;
      continue;
    }
    // What it accepts is a directory a pond can use: every entry typed, named, a safe version.
    for (const e of got) {
      const what = `copy ${k} (seed ${rnd.seed}): ${JSON.stringify(e, (_, v) => (typeof v === "bigint" ? String(v) : v))}`;
      expect([what, typeof e.name, typeof e.childNodeId, isEntryType(e.entryType)]).toEqual([what, "string", "string", true]);
      expect([what, Number.isSafeInteger(e.versionLastModified) && e.versionLastModified >= 0]).toEqual([what, true]);
    }
  }
  expect(refused).toBeGreaterThan(100);
});

test("decodeDirectory() refuses a negative version or one past 2^53 as CorruptLogError", () => {
  for (const v of [-1, 2 ** 53 + 2]) {
    const t = new A.Table({
      name: A.vectorFromArray(["a"], new A.Utf8()),
      child_node_id: A.vectorFromArray([ID(1)], new A.Utf8()),
      entry_type: A.vectorFromArray(["file:data"], new A.Utf8()),
      version_last_modified: A.makeVector(BigInt64Array.from([BigInt(v)])),
    });
    expect(() => decodeDirectory(A.tableToIPC(t, "stream"), "v")).toThrow(CorruptLogError);
  }
});

test("ArrowStreamEncoder writes one IPC stream over several batches: schema once, every kind typed, nulls kept", async () => {
  const { tableFromIPC } = await import("apache-arrow");
  const { ArrowStreamEncoder } = await import("./directory-codec.ts");
  const e = new ArrowStreamEncoder([
    { name: "b", kind: "bool" },
    { name: "i", kind: "int32" },
    { name: "l", kind: "int64" },
    { name: "f", kind: "float64" },
    { name: "s", kind: "utf8" },
    { name: "t", kind: "timestamp_us_utc" },
    { name: "n", kind: "timestamp_us" },
    { name: "d", kind: "date_day" },
  ]);
  const first = e.batch([
    [true, 1, 2n ** 60n, 1.5, "x", 1_700_000_000_123_456n, 0n, 19_000],
    [null, null, null, null, null, null, null, null],
  ]);
  const second = e.batch([[false, -3, -4n, Number.NaN, "ü", 0n, 1n, 0]]);
  const end = e.end();
  const bytes = new Uint8Array(first.length + second.length + end.length);
  bytes.set(first);
  bytes.set(second, first.length);
  bytes.set(end, first.length + second.length);
  const t = tableFromIPC(bytes);
  expect(t.numRows).toBe(3);
  expect(t.batches.length).toBe(2);
  expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
    "b:Bool",
    "i:Int32",
    "l:Int64",
    "f:Float64",
    "s:Utf8",
    "t:Timestamp<MICROSECOND, UTC>",
    "n:Timestamp<MICROSECOND>",
    "d:Date32<DAY>",
  ]);
  expect(t.getChild("l")!.toArray()).toEqual(new BigInt64Array([2n ** 60n, 0n, -4n]));
  expect(t.getChild("l")!.get(1)).toBeNull();
  expect(t.getChild("s")!.get(2)).toBe("ü");
  expect(t.getChild("d")!.get(0)).toBe(19_000 * 86_400_000);
  // The raw µs survive (the JS accessor shows ms): 1_700_000_000_123_456 µs.
  expect((t.getChild("t")!.data[0]!.values as BigInt64Array)[0]).toBe(1_700_000_000_123_456n);
  // No batch at all is still a valid stream with the schema.
  const empty = tableFromIPC(new ArrowStreamEncoder([{ name: "a", kind: "int32" }]).end());
  expect([empty.numRows, empty.schema.fields[0]!.name]).toEqual([0, "a"]);
});

test("encodeDirectory() (hand-written) reads in apache-arrow as the table apache-arrow writes for the same entries", () => {
  const rnd = seededRandom("directory-codec encode");
  for (const n of [0, 1, 2, 7, 300]) {
    const entries: DirEntry[] = Array.from({ length: n }, (_, i) => ({
      name: rnd.int(3) === 0 ? `ü✓ ${"x".repeat(rnd.int(40))}` : `f${i}`,
      childNodeId: ID(rnd.int(1e6)),
      entryType: rnd.pick(["file:data", "file:table", "file:series", "directory", "symlink"] as const),
      versionLastModified: rnd.int(2) ? rnd.int(1000) : Number.MAX_SAFE_INTEGER - rnd.int(1000),
    }));
    const theirs = new A.Table({
      name: A.vectorFromArray(
        entries.map((e) => e.name),
        new A.Utf8(),
      ),
      child_node_id: A.vectorFromArray(
        entries.map((e) => e.childNodeId),
        new A.Utf8(),
      ),
      entry_type: A.vectorFromArray(
        entries.map((e) => e.entryType),
        new A.Utf8(),
      ),
      version_last_modified: A.makeVector(BigInt64Array.from(entries.map((e) => BigInt(e.versionLastModified)))),
    });
    const mine = A.tableFromIPC(encodeDirectory(entries));
    const other = A.tableFromIPC(A.tableToIPC(theirs, "stream"));
    expect(mine.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(other.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(mine.numRows).toBe(n);
    expect(mine.toArray().map((r) => r.toJSON())).toEqual(other.toArray().map((r) => r.toJSON()));
    expect(decodeDirectory(encodeDirectory(entries))).toEqual(entries);
  }
});
