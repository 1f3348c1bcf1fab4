import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDuckDB, type Duck } from "../sql/duckdb.ts";
import { sqlStringList } from "./query-session.ts";

describe("sqlStringList()", () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await openDuckDB();
  });
  afterAll(() => duck.close());

  const cases: [string, string[]][] = [
    ["none", []],
    ["one", ["/a/b.parquet"]],
    ["quotes, commas, spaces and non-ASCII", ["/p/it's.parquet", "/p/a, b.parquet", "/p/ünï code.parquet", "/p/\"q\".parquet"]],
    ["a newline in a path (the literal is kept)", ["/p/one\nline.parquet", "/p/two.parquet"]],
    ["empty strings and a trailing slash", ["", "/p/", ""]],
    ["a thousand", Array.from({ length: 1000 }, (_, i) => `/pond/data/_large_files/sha256=${i.toString(16).padStart(64, "0")}`)],
  ];
  for (const [what, items] of cases) {
    test(`DuckDB reads back the same list: ${what}`, async () => {
      const [row] = await duck.all(`SELECT ${sqlStringList(items)}::VARCHAR[] AS l`);
      expect(row!.l).toEqual(items);
    });
  }

  test("a long list is one split string, not a list literal", () => {
    expect(sqlStringList(["/a", "/b'c"])).toBe("string_split('/a\n/b''c', chr(10))");
    expect(sqlStringList(["/a\n", "/b"])).toBe("['/a\n', '/b']");
  });
});
