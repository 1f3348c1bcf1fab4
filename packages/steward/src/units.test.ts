import { describe, expect, test } from "bun:test";
import { durationMs, sizeBytes } from "./units.ts";

describe("sizeBytes()", () => {
  test("binary and decimal units, any case, and bare bytes", () => {
    expect(sizeBytes("32MiB")).toBe(32 * 1024 * 1024);
    expect(sizeBytes("64MB")).toBe(64_000_000);
    expect(sizeBytes("1g")).toBe(1024 ** 3);
    expect(sizeBytes(" 1.5 kb ")).toBe(1500);
    expect(sizeBytes("500000")).toBe(500_000);
  });
  test("anything else, or under a byte, is not a size", () => {
    for (const t of ["", "MiB", "12 parsecs", "-1", "0", "0.5", "1e6"]) expect({ t, v: sizeBytes(t) }).toEqual({ t, v: undefined });
  });
});

describe("durationMs()", () => {
  test("every unit, ms to weeks", () => {
    expect(durationMs("500ms")).toBe(500);
    expect(durationMs("10s")).toBe(10_000);
    expect(durationMs("5m")).toBe(300_000);
    expect(durationMs("1.5h")).toBe(5_400_000);
    expect(durationMs("30d")).toBe(30 * 86_400_000);
    expect(durationMs("2w")).toBe(2 * 604_800_000);
    expect(durationMs("0s")).toBe(0);
  });
  test("a bare number is refused unless the caller reads it in seconds", () => {
    expect(durationMs("60")).toBeUndefined();
    expect(durationMs("60", { bare: "s" })).toBe(60_000);
  });
  test("anything else is not a duration", () => {
    for (const t of ["", "s", "10 minutes", "-5m", "5y"]) expect({ t, v: durationMs(t) }).toEqual({ t, v: undefined });
  });
});
