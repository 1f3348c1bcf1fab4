import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import type { OplogEntry } from "./oplog-entry.ts";
import {
  decodeEntries,
  describeParquet,
  encodeColumns,
  encodeEntries,
  encodeObjects,
  ENTRY_ROW_GROUP_SIZE,
  readParquetColumns,
  readParquetObjects,
  readParquetRaw,
  type ParquetField,
} from "./parquet-codec.ts";
import { FIXTURES } from "../../../test/support/fixtures.ts";
import { UndecodableError } from "./errors.ts";

const PQ = join(FIXTURES, "parquet/duckdb");

function entry(i: number, over: Partial<OplogEntry> = {}): OplogEntry {
  return {
    part_id: "p",
    node_id: `0190a0b0-0000-7000-8000-${String(i).padStart(12, "0")}`,
    file_type: i % 2 ? "file:data" : "directory",
    version: i + 1,
    timestamp: 1_700_000_000_123_456n + BigInt(i),
    content: new Uint8Array([0xff, 0xfe, 0x00, i & 0xff]),
    sha256: "ab".repeat(32),
    size: 4,
    min_event_time: null,
    max_event_time: null,
    attributes: "{}",
    ...over,
  };
}

describe("encodeEntries() / decodeEntries()", () => {
  test("decodeEntries() returns exactly the rows encodeEntries() wrote, with part_id from the caller", async () => {
    const rows = [
      entry(0),
      entry(1, { content: null, min_event_time: -5n, max_event_time: 9_007_199_254_740_993n, attributes: '{"timestamp_column":"ts"}' }),
      entry(2, { content: new Uint8Array(0), timestamp: -1n, file_type: "file:series" }),
    ];
    const back = await decodeEntries(encodeEntries(rows), "p");
    expect(back).toEqual(rows);
  });

  test("decodeEntries() keeps content as raw bytes when they are not valid UTF-8", async () => {
    const content = new Uint8Array(256).map((_, i) => i);
    const [back] = await decodeEntries(encodeEntries([entry(0, { content })]), "p");
    expect(back.content).toBeInstanceOf(Uint8Array);
    expect(back.content).toEqual(content);
  });

  test("decodeEntries() returns bigint microseconds for timestamps when they are not whole milliseconds", async () => {
    const [back] = await decodeEntries(encodeEntries([entry(0, { timestamp: 1_000_001n, min_event_time: 7n, max_event_time: 8n })]), "p");
    expect(back.timestamp).toBe(1_000_001n);
    expect(typeof back.min_event_time).toBe("bigint");
    expect(typeof back.version).toBe("number");
    expect(typeof back.size).toBe("number");
  });

  test("encodeEntries() writes the OplogEntry schema without part_id, timestamp as TIMESTAMP(MICROS, UTC)", async () => {
    const d = await describeParquet(encodeEntries([entry(0)]));
    expect(d.columns.map((c) => c.path)).toEqual([
      "node_id",
      "file_type",
      "version",
      "timestamp",
      "content",
      "sha256",
      "size",
      "min_event_time",
      "max_event_time",
      "attributes",
    ]);
    const ts = d.columns.find((c) => c.path === "timestamp");
    expect(ts?.type).toBe("INT64");
    expect(JSON.parse(ts?.logicalType ?? "{}")).toEqual({ type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" });
    const content = d.columns.find((c) => c.path === "content");
    expect(content).toEqual({ path: "content", type: "BYTE_ARRAY", repetition: "OPTIONAL" });
    expect(d.columns.find((c) => c.path === "node_id")?.convertedType).toBe("UTF8");
    expect(d.codecs).toEqual(["SNAPPY"]);
  });

  test("encodeEntries() splits rows into row groups of ENTRY_ROW_GROUP_SIZE when there are many", async () => {
    const rows = Array.from({ length: ENTRY_ROW_GROUP_SIZE * 2 + 5 }, (_, i) => entry(i));
    const bytes = encodeEntries(rows);
    expect((await describeParquet(bytes)).rowGroups).toEqual([ENTRY_ROW_GROUP_SIZE, ENTRY_ROW_GROUP_SIZE, 5]);
    expect(await decodeEntries(bytes, "p")).toEqual(rows);
  });

  test("encodeEntries() writes a readable file when there are no rows", async () => {
    const bytes = encodeEntries([]);
    expect(await decodeEntries(bytes, "p")).toEqual([]);
    expect((await describeParquet(bytes)).numRows).toBe(0);
  });
});

describe("encodeObjects() / readParquetObjects()", () => {
  const fields: ParquetField[] = [
    { name: "id", type: "int32" },
    {
      name: "s",
      optional: true,
      struct: [
        { name: "path", type: "string", optional: true },
        { name: "m", map: "string", optional: true },
        { name: "l", list: "string", optional: true },
        { name: "n", type: "int64", optional: true },
        { name: "b", type: "boolean", optional: true },
      ],
    },
  ];

  test("readParquetObjects() returns nested structs, maps and lists as encodeObjects() wrote them", async () => {
    const rows = [
      { id: 1, s: { path: "a b", m: { k: "v", é: null }, l: ["x", "y"], n: 2 ** 40, b: true } },
      { id: 2, s: null },
      { id: 3, s: { path: null, m: {}, l: [], n: null, b: false } },
    ];
    const back = await readParquetObjects(encodeObjects(fields, rows));
    expect(back[0]).toEqual({ id: 1, s: { path: "a b", m: { k: "v", é: null }, l: ["x", "y"], n: 2n ** 40n, b: true } });
    expect(back[1].s ?? null).toBeNull();
    expect(back[2]).toEqual({ id: 3, s: { path: null, m: {}, l: [], n: null, b: false } });
  });

  test("readParquetObjects() skips requested columns that the file does not have", async () => {
    const back = await readParquetObjects(encodeObjects(fields, [{ id: 1, s: null }]), { columns: ["id", "nope"] });
    expect(back).toEqual([{ id: 1 }]);
  });

  test("readParquetObjects() decompresses gzip and zstd files the same as snappy", async () => {
    const read = async (name: string) => readParquetObjects(new Uint8Array(await Bun.file(`${PQ}/${name}`).arrayBuffer()));
    const snappy = await read("data_page=1_SNAPPY.parquet");
    expect(snappy.length).toBeGreaterThan(0);
    expect(await read("data_page=1_GZIP.parquet")).toEqual(snappy);
    expect(await read("data_page=1_ZSTD.parquet")).toEqual(snappy);
    const d = await describeParquet(new Uint8Array(await Bun.file(`${PQ}/data_page=1_ZSTD.parquet`).arrayBuffer()));
    expect(d.codecs).toEqual(["ZSTD"]);
  });

  test("readParquetObjects() rejects bytes that are not Parquet", async () => {
    await expect(readParquetObjects(new TextEncoder().encode("definitely not parquet"))).rejects.toThrow();
  });
});

test("readParquetObjects() reports bytes hyparquet cannot parse as UndecodableError (undecodable), naming Parquet", async () => {
  for (const bytes of [new TextEncoder().encode("not parquet at all"), new Uint8Array(0), encodeEntries([]).subarray(0, 20)]) {
    const e = await readParquetObjects(bytes).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UndecodableError);
    expect([(e as UndecodableError).code, (e as UndecodableError).kind]).toEqual(["undecodable", "integrity"]);
    expect((e as Error).message).toStartWith("Cannot decode Parquet: ");
  }
});

test("readParquetColumns() gives the columns asked for as readParquetRaw gives their rows, over several row groups and codecs, NULLs as null", async () => {
  const n = 25;
  const times = Array.from({ length: n }, (_, i) => 1_700_000_000_000_000n + BigInt(i) * 60_000_000n);
  const xs = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : i / 3));
  const names = Array.from({ length: n }, (_, i) => `s${i}`);
  for (const codec of ["SNAPPY", "ZSTD"] as const) {
    const bytes = encodeColumns(
      [
        { name: "t", type: "timestamp_us" },
        { name: "x", type: "double", optional: true },
        { name: "s", type: "string" },
      ],
      [times, xs, names],
      { rowGroupSize: 10, codec },
    );
    const raw = (await readParquetRaw(bytes))!;
    const cols = await readParquetColumns(bytes, ["x", "t", "absent"]);
    expect(cols.columns).toEqual(raw.columns);
    expect(cols.rows).toBe(n);
    expect([...cols.values.keys()].sort()).toEqual(["t", "x"]);
    expect(cols.values.get("t")).toEqual(raw.rows.map((r) => r[0]));
    expect(cols.values.get("x")).toEqual(raw.rows.map((r) => r[1]));
    expect(cols.values.get("x")![0]).toBeNull();
    expect(cols.values.get("t")![3]).toBe(times[3]!);
  }
});
