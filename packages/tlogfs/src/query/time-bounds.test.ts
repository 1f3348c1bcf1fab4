import { describe, expect, test } from "bun:test";
import { detectTimestampColumn, overlaps, parseTimeBound } from "./time-bounds.ts";

describe("parseTimeBound()", () => {
  test("reads ISO with offset, without offset as UTC, dates, and epoch seconds", () => {
    expect(parseTimeBound("2026-03-01T12:00:00Z", "--time-start")).toBe(1772366400000000n);
    expect(parseTimeBound("2026-03-01T06:00:00-06:00", "--time-start")).toBe(1772366400000000n);
    expect(parseTimeBound("2026-03-01T12:00:00", "--time-start")).toBe(1772366400000000n);
    expect(parseTimeBound("2026-03-01", "--time-start")).toBe(1772323200000000n);
    expect(parseTimeBound("1772366400", "--time-start")).toBe(1772366400000000n);
    expect(parseTimeBound("2026-03-01T12:00:00.123456Z", "--time-start")).toBe(1772366400123456n);
  });
  test("throws a usage error naming the flag for garbage", () => {
    expect(() => parseTimeBound("yesterday", "--time-end")).toThrow('--time-end "yesterday" is not a time');
  });
});

describe("overlaps()", () => {
  test("keeps versions that touch [start, end) and skips the rest", () => {
    const r = { start: 100n, end: 200n };
    expect(overlaps(r, 0n, 99n)).toBe(false);
    expect(overlaps(r, 0n, 100n)).toBe(true);
    expect(overlaps(r, 199n, 300n)).toBe(true);
    expect(overlaps(r, 200n, 300n)).toBe(false);
    expect(overlaps({}, 1n, 2n)).toBe(true);
    expect(overlaps(r, null, null)).toBe(true);
  });
});

describe("detectTimestampColumn()", () => {
  const cols = [
    { name: "site", type: "VARCHAR" },
    { name: "ts", type: "TIMESTAMP" },
    { name: "v", type: "DOUBLE" },
  ];
  test("finds a candidate name", () => expect(detectTimestampColumn(cols, undefined, "x").name).toBe("ts"));
  test("uses the named column", () => expect(() => detectTimestampColumn(cols, "v", "x")).toThrow("not a timestamp"));
  test("lists the columns when none is found", () => {
    expect(() => detectTimestampColumn([{ name: "a", type: "INTEGER" }], undefined, "f.csv")).toThrow("no timestamp column");
  });
});
