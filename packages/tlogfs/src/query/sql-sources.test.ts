import { describe, expect, test } from "bun:test";
import { extractPondSources, relabelSources, statementText } from "./sql-sources.ts";

describe("extractPondSources()", () => {
  test("replaces quoted pond paths after FROM and JOIN with view names", () => {
    const r = extractPondSources("SELECT * FROM '/sensors/*.series' a JOIN '/sites.table' b USING (site)");
    expect(r.sources).toEqual([
      { path: "/sensors/*.series", view: "__pond_source_0" },
      { path: "/sites.table", view: "__pond_source_1" },
    ]);
    expect(r.sql).toBe('SELECT * FROM "__pond_source_0" a JOIN "__pond_source_1" b USING (site)');
  });
  test("leaves other strings, comparisons and comments alone, and reuses a view for a repeated path", () => {
    const sql = "select 'FROM /x' as s, * from '/a' where p = '/a' -- from '/b'\n union all select 1, * from '/a'";
    const r = extractPondSources(sql);
    expect(r.sources).toEqual([{ path: "/a", view: "__pond_source_0" }]);
    expect(r.sql).toBe("select 'FROM /x' as s, * from \"__pond_source_0\" where p = '/a' -- from '/b'\n union all select 1, * from \"__pond_source_0\"");
  });
  test("unescapes doubled quotes in a path", () => {
    expect(extractPondSources("SELECT * FROM '/it''s'").sources[0]!.path).toBe("/it's");
  });
});

describe("statementText()", () => {
  test("cuts trailing semicolons, comments and whitespace", () => {
    expect(statementText("SELECT 1 ; ; -- done\n /* and */ \n")).toBe("SELECT 1");
  });
  test("keeps leading comments, strings and a ; between statements", () => {
    expect(statementText("-- why\nSELECT ';--' AS \"a;\" ;")).toBe("-- why\nSELECT ';--' AS \"a;\"");
    expect(statementText("SELECT 1; SELECT 2;")).toBe("SELECT 1; SELECT 2");
  });
});

describe("relabelSources()", () => {
  const labels = new Map([
    ["__pond_source_0", "/lake.series"],
    ["__pond_source_1", "/it's.table"],
  ]);

  test("puts the user's paths back and keeps the caret under the same spot", () => {
    const original = 'LINE 1: SELECT a.x FROM "__pond_source_0" a JOIN "__pond_source_1" b USING (id) WHERE nope';
    const msg = `Binder Error: Referenced column "nope" not found in FROM clause!\n\n${original}\n${" ".repeat(original.indexOf("nope"))}^`;
    const out = relabelSources(msg, labels);
    const [, , line, caret] = out.split("\n");
    expect(line).toBe("LINE 1: SELECT a.x FROM '/lake.series' a JOIN '/it''s.table' b USING (id) WHERE nope");
    expect(line![caret!.indexOf("^")]).toBe("n");
    expect(line!.slice(caret!.indexOf("^"), caret!.indexOf("^") + 4)).toBe("nope");
  });

  test("an unquoted name (a column's qualifier) becomes the bare path; other text is left alone", () => {
    expect(relabelSources('Candidate bindings: "__pond_source_0.value"', labels)).toBe('Candidate bindings: "/lake.series.value"');
    expect(relabelSources("no view here __pond_source_10", labels)).toBe("no view here __pond_source_10");
    expect(relabelSources("x", new Map())).toBe("x");
  });
});
