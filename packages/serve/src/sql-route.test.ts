import { describe, expect, test } from "bun:test";
import { BadRequestError, NotAcceptableError } from "./errors.ts";
import { formatFor, parseSqlBody } from "./sql-route.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("sql-route", () => {
  test("formatFor() picks the highest q the server writes, JSON by default", () => {
    expect(formatFor(null)).toBe("json");
    expect(formatFor("*/*")).toBe("json");
    expect(formatFor("text/csv")).toBe("csv");
    expect(formatFor("application/vnd.apache.arrow.stream")).toBe("arrow");
    expect(formatFor("application/vnd.apache.parquet")).toBe("parquet");
    expect(formatFor("application/x-ndjson")).toBe("jsonl");
    expect(formatFor("text/html, text/csv;q=0.5, application/json;q=0.9")).toBe("json");
    expect(formatFor("text/csv;q=0, application/json;q=0.1")).toBe("json");
    expect(() => formatFor("image/png")).toThrow(NotAcceptableError);
  });

  test("parseSqlBody() takes text/plain as the SQL and JSON as {sql, as_of, time_start, time_end}", () => {
    expect(parseSqlBody(enc("SELECT 1"), "text/plain")).toEqual({ sql: "SELECT 1" });
    expect(parseSqlBody(enc("SELECT 1"), null)).toEqual({ sql: "SELECT 1" });
    const q = parseSqlBody(
      enc(JSON.stringify({ sql: "SELECT 2", as_of: 3, time_start: "2024-01-01", time_end: "2024-01-02T00:00:00Z" })),
      "application/json; charset=utf-8",
    );
    expect(q.sql).toBe("SELECT 2");
    expect(q.asOf).toEqual({ seq: 3 });
    expect(q.range).toEqual({ start: 1704067200000000n, end: 1704153600000000n });
  });

  test("parseSqlBody() refuses an empty body, bad JSON, unknown fields and a bad time, naming them", () => {
    expect(() => parseSqlBody(enc("  "), "text/plain")).toThrow(BadRequestError);
    expect(() => parseSqlBody(enc("{"), "application/json")).toThrow(/not JSON/);
    expect(() => parseSqlBody(enc('{"sql":"SELECT 1","limit":3}'), "application/json")).toThrow(/"limit"/);
    expect(() => parseSqlBody(enc('{"as_of":1}'), "application/json")).toThrow(/needs "sql"/);
    expect(() => parseSqlBody(enc('{"sql":"SELECT 1","time_start":"yesterday"}'), "application/json")).toThrow(/time_start/);
    expect(() => parseSqlBody(enc('{"sql":"SELECT 1","as_of":"-1"}'), "application/json")).toThrow(/"as_of"/);
    expect(() => parseSqlBody(enc('{"sql":"SELECT 1","as_of":-1}'), "application/json")).toThrow(/"as_of"/);
    expect(parseSqlBody(enc('{"sql":"SELECT 1","as_of":"2026-01-31T12:00:00Z"}'), "application/json").asOf).toEqual({
      timeMs: Date.parse("2026-01-31T12:00:00Z"),
    });
  });
});
