import { describe, expect, test } from "bun:test";
import { parquetMetadata } from "hyparquet";
import { seededRandom } from "@pond/tinyfs/testing";
import { encodeColumns, readParquetRaw } from "./parquet-codec.ts";
import { encodeSeriesParquet } from "./series-parquet.ts";

const META_PARSERS = { timestampFromMicroseconds: (v: bigint) => v };

function metadata(bytes: Uint8Array) {
  return parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { parsers: META_PARSERS });
}

/** Each row group's columns as the footer describes them, without byte offsets and sizes (the writers compress differently). */
function groupStats(bytes: Uint8Array) {
  return metadata(bytes).row_groups.map((g) => ({
    rows: Number(g.num_rows),
    columns: g.columns.map((c) => {
      const m = c.meta_data!;
      return { path: m.path_in_schema, type: m.type, values: Number(m.num_values), codec: m.codec, statistics: m.statistics };
    }),
  }));
}

describe("encodeSeriesParquet", () => {
  test("encodeSeriesParquet() reads back as the general writer's file of the same columns: schema, rows, nulls, row groups and statistics", async () => {
    const rnd = seededRandom("series parquet");
    for (const n of [1, 7, 10, 25, 1000]) {
      const micros = new Float64Array(n);
      let t = (1_600_000_000 + rnd.int(1000)) * 1_000_000;
      for (let i = 0; i < n; i++) micros[i] = t += 1_000_000 * (1 + rnd.int(100));
      const full = new Float64Array(n).map(() => (rnd.int(2000) - 1000) / 7);
      const some = new Float64Array(n).map(() => (rnd.int(3) === 0 ? Number.NaN : rnd.int(10) === 0 ? 0 : rnd.int(100) - 50));
      const none = new Float64Array(n).fill(Number.NaN);
      const counts = new Float64Array(n).map(() => (rnd.int(4) === 0 ? Number.NaN : rnd.int(2 ** 20) - 2 ** 19));
      const doubles = [
        { name: "full", values: full },
        { name: "some.x", values: some },
        { name: "none", values: none },
        { name: "x.count", values: counts, int64: true },
      ];
      const mine = await encodeSeriesParquet({ time: { name: "timestamp", values: micros }, doubles }, { rowGroupSize: 10 });
      const general = encodeColumns(
        [
          { name: "timestamp", type: "timestamp_us" },
          ...doubles.map((d) => ({ name: d.name, type: d.int64 ? ("int64" as const) : ("double" as const), optional: true })),
        ],
        [[...micros], ...doubles.map((d) => [...d.values].map((v) => (Number.isNaN(v) ? null : d.int64 ? BigInt(v) : v)))],
        { rowGroupSize: 10, codec: "ZSTD" },
      );
      const [a, b] = [(await readParquetRaw(mine))!, (await readParquetRaw(general))!];
      expect(a.columns).toEqual(b.columns);
      expect(a.rows).toEqual(b.rows);
      expect(a.rows).toHaveLength(n);
      expect(a.rows[0]![0]).toBe(BigInt(micros[0]!));
      const [ma, mb] = [metadata(mine), metadata(general)];
      expect(ma.schema.slice(1)).toEqual(mb.schema.slice(1));
      expect(Number(ma.num_rows)).toBe(n);
      expect(groupStats(mine)).toEqual(groupStats(general));
    }
  });

  test("encodeSeriesParquet() writes times before 1970 and refuses a time that is not whole µs", async () => {
    const micros = new Float64Array([-86_400_000_001, -1, 0, 2 ** 40]);
    const bytes = await encodeSeriesParquet({ time: { name: "t", values: micros }, doubles: [] });
    expect((await readParquetRaw(bytes))!.rows).toEqual([[-86_400_000_001n], [-1n], [0n], [2n ** 40n]]);
    await expect(encodeSeriesParquet({ time: { name: "t", values: new Float64Array([1.5]) }, doubles: [] })).rejects.toThrow("not a whole number of µs");
    const one = { name: "t", values: new Float64Array([0]) };
    await expect(encodeSeriesParquet({ time: one, doubles: [{ name: "n", values: new Float64Array([0.5]), int64: true }] })).rejects.toThrow(
      "0.5 is not a safe integer for an INT64 column",
    );
  });

  test("encodeSeriesParquet() writes times DELTA_BINARY_PACKED: steps fixed (forwards and backwards), irregular, backwards and wide, at every block edge, read back exactly", async () => {
    const rnd = seededRandom("series parquet deltas");
    const patterns: Record<string, (i: number) => number> = {
      fixed: (i) => 1_600_000_000_000_000 + i * 60_000_000,
      "fixed, backwards": (i) => 2 ** 40 - i * 1000,
      irregular: (i) => 1_600_000_000_000_000 + i * 60_000_000 + rnd.int(5_000_000),
      backwards: (i) => 2 ** 50 - i * 7 - rnd.int(3),
      // Deltas of ±2^51: (delta − min delta) up to ~2^52, bit widths of 53 within one miniblock.
      wide: (i) => (i % 2 === 0 ? -(2 ** 50) : 2 ** 50 + rnd.int(1000)),
    };
    for (const [name, at] of Object.entries(patterns)) {
      for (const n of [1, 2, 31, 32, 33, 127, 128, 129, 300, 10_000]) {
        const micros = Float64Array.from({ length: n }, (_, i) => at(i));
        const bytes = await encodeSeriesParquet({ time: { name: "t", values: micros }, doubles: [] }, { rowGroupSize: 10_000 });
        const rows = (await readParquetRaw(bytes))!.rows;
        expect(rows.map((r) => r[0])).toEqual([...micros].map((m) => BigInt(m)));
        const chunk = metadata(bytes).row_groups[0]!.columns[0]!.meta_data!;
        expect({ pattern: name, n, encodings: chunk.encodings }).toEqual({ pattern: name, n, encodings: ["DELTA_BINARY_PACKED"] });
        const mm = chunk.statistics!;
        expect([mm.min_value, mm.max_value]).toEqual([BigInt(Math.min(...micros)), BigInt(Math.max(...micros))]);
      }
    }
    // A fixed step costs 8 bytes a block of 128 rows (its min delta and bit widths), not 8 bytes a row.
    const fixed = Float64Array.from({ length: 10_000 }, (_, i) => patterns.fixed!(i));
    const meta = metadata(await encodeSeriesParquet({ time: { name: "t", values: fixed }, doubles: [] }));
    expect(Number(meta.row_groups[0]!.columns[0]!.meta_data!.total_uncompressed_size)).toBeLessThan(1000);
  });

  test("encodeSeriesParquet() writes zigzag values of 2^52 and more exactly (first values and minimum deltas near the safe range's ends)", async () => {
    const cases = [
      [2 ** 53 - 1, 2 ** 53 - 2, 2 ** 53 - 3], // a first value above 2^52
      [-(2 ** 53 - 1), -(2 ** 53 - 2)], // …negative, its low 6 bits not zero
      [-(2 ** 52), -(2 ** 52) + 64, 0], // …negative with low 6 bits zero: the borrow
      [-(2 ** 53 - 64), 5], // the same with more bits above the borrow
      [2 ** 52, -(2 ** 52) + 100, -(2 ** 52) + 101], // a minimum delta of −2^53 + 100
    ];
    for (const values of cases) {
      const micros = Float64Array.from(values);
      const bytes = await encodeSeriesParquet({ time: { name: "t", values: micros }, doubles: [] });
      expect((await readParquetRaw(bytes))!.rows.map((r) => r[0])).toEqual(values.map((v) => BigInt(v)));
      expect(metadata(bytes).row_groups[0]!.columns[0]!.meta_data!.encodings).toEqual(["DELTA_BINARY_PACKED"]);
    }
  });

  test("encodeSeriesParquet() writes times PLAIN when a delta is not a safe integer", async () => {
    const micros = new Float64Array([-(2 ** 53 - 1), 2 ** 53 - 1, 0]);
    const bytes = await encodeSeriesParquet({ time: { name: "t", values: micros }, doubles: [] });
    expect((await readParquetRaw(bytes))!.rows).toEqual([[-(2n ** 53n - 1n)], [2n ** 53n - 1n], [0n]]);
    expect(metadata(bytes).row_groups[0]!.columns[0]!.meta_data!.encodings).toEqual(["PLAIN"]);
  });
});
