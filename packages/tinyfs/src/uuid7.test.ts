import { describe, expect, test } from "bun:test";
import { ROOT_ID } from "./types.ts";
import { isUuid7, uuid7, uuid7Time } from "./uuid7.ts";

describe("uuid7()", () => {
  test("uuid7() returns canonical lowercase 8-4-4-4-12 hex with version 7 and variant 10", () => {
    for (let i = 0; i < 100; i++) {
      const id = uuid7();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isUuid7(id)).toBe(true);
    }
  });

  test("uuid7() stamps the given milliseconds in the first 48 bits", () => {
    const ms = 1_700_000_123_456;
    const id = uuid7(ms);
    expect(uuid7Time(id)).toBe(ms);
    expect(id.slice(0, 13)).toBe(
      ms
        .toString(16)
        .padStart(12, "0")
        .replace(/^(.{8})/, "$1-"),
    );
  });

  test("uuid7() is strictly increasing within one millisecond", () => {
    const ms = 1_800_000_000_000;
    const ids = Array.from({ length: 5000 }, () => uuid7(ms));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
    expect(ids.every((id) => uuid7Time(id) === ms)).toBe(true);
  });

  test("uuid7() is strictly increasing across milliseconds on the real clock", () => {
    const ids = Array.from({ length: 20000 }, () => uuid7());
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });

  test("uuid7() honours an explicit earlier time", () => {
    uuid7(2_000_000_000_000);
    expect(uuid7Time(uuid7(1_000))).toBe(1_000);
  });

  test("uuid7() throws RangeError when the time does not fit 48 bits", () => {
    expect(() => uuid7(-1)).toThrow(RangeError);
    expect(() => uuid7(2 ** 48)).toThrow(RangeError);
    expect(() => uuid7(Number.NaN)).toThrow(RangeError);
  });

  test("isUuid7() accepts ROOT_ID and rejects other strings", () => {
    expect(isUuid7(ROOT_ID)).toBe(true);
    expect(isUuid7("00000000-0000-4000-8000-000000000000")).toBe(false);
    expect(isUuid7(uuid7().toUpperCase())).toBe(false);
    expect(isUuid7("nope")).toBe(false);
    expect(() => uuid7Time("nope")).toThrow(RangeError);
  });
});
