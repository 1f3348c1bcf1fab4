import { describe, expect, test } from "bun:test";
import { formatOf, parseBody } from "./body.ts";
import { IngestBadInputError } from "./errors.ts";

function failure(fn: () => unknown): IngestBadInputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IngestBadInputError) return e;
    throw e;
  }
  throw new Error("expected IngestBadInputError");
}

describe("parseBody()", () => {
  test("JSON lines: blank lines skipped, line numbers kept, firstLine offsets them", () => {
    const r = parseBody('{"a":1}\n\n{"a":2}\n', "jsonl", 10);
    expect(r.records).toEqual([
      { line: 10, value: { a: 1 } },
      { line: 12, value: { a: 2 } },
    ]);
  });

  test("a malformed line and a line that is not an object name their line", () => {
    expect(failure(() => parseBody('{"a":1}\n{"a":\n', "jsonl")).data).toMatchObject({ line: 2 });
    expect(failure(() => parseBody('{"a":1}\n[1,2]\n', "jsonl")).message).toBe("Line 2: must be a JSON object of column values, not an array");
  });

  test("a JSON array counts elements", () => {
    expect(parseBody('[{"a":1},{"a":2}]', "json").records[1]).toEqual({ line: 2, value: { a: 2 } });
    expect(failure(() => parseBody('[{"a":1},3]', "json")).message).toBe("Element 2: must be a JSON object of column values, not number");
  });

  test("CSV: quotes, doubled quotes, a quoted newline, CRLF, empty fields as null; the header is line 1", () => {
    const r = parseBody('t,name,note\r\n1,"a, b","say ""hi"""\r\n2,,"two\nlines"\n3,"",x\n', "csv");
    expect(r.records).toEqual([
      { line: 2, value: { t: "1", name: "a, b", note: 'say "hi"' } },
      { line: 3, value: { t: "2", name: null, note: "two\nlines" } },
      { line: 5, value: { t: "3", name: "", note: "x" } },
    ]);
  });

  test("CSV: a row with the wrong number of fields names its line", () => {
    expect(failure(() => parseBody("a,b\n1,2\n3\n", "csv")).message).toBe("Line 3: has 1 fields, the header has 2");
  });

  test("formatOf() reads the Content-Type, and sniffs an array", () => {
    expect(formatOf("text/csv; charset=utf-8", "a,b")).toBe("csv");
    expect(formatOf("application/json", " [{}]")).toBe("json");
    expect(formatOf("application/json", '{"a":1}')).toBe("jsonl");
    expect(formatOf(null, '{"a":1}')).toBe("jsonl");
  });
});
