import { describe, expect, test } from "bun:test";
import { parseBody } from "./body.ts";
import { CsvRecordSplitter, firstCsvRecordEnd } from "./csv-records.ts";

// Quoted newlines (LF and CRLF), "" escapes (one right before a closing quote), an empty
// quoted field, a quote inside an unquoted field, a blank line, a last record without a newline.
const HEADER = 'time,"na,me",note\r\n';
const ROWS = [
  '2024-01-01T00:00:00Z,a,"one\nline two"\r\n',
  '2024-01-01T00:01:00Z,"b ""q""","x\r\ny"\n',
  '2024-01-01T00:02:00Z,c,""\n',
  "\n",
  '2024-01-01T00:03:00Z,d"e,"""\n"""\n',
  "2024-01-01T00:04:00Z,,last",
];
const TEXT = HEADER + ROWS.join("");

/** Feeds `pieces` to a splitter; the batches it returns (the end's rest as the last). */
function split(pieces: string[]): string[] {
  const s = new CsvRecordSplitter();
  const out = pieces.map((p) => s.push(p));
  out.push(s.end());
  return out.filter((b) => b !== "");
}

/** The records of `batches` parsed one batch at a time, each after the header (as `pond ingest` sends them). */
function recordsOf(batches: string[]): unknown[] {
  const end = firstCsvRecordEnd(batches.join(""));
  const header = batches.join("").slice(0, end);
  const rest = split([batches.join("").slice(end)]);
  return rest.flatMap((b) => parseBody(header + b, "csv").records.map((r) => r.value));
}

describe("CsvRecordSplitter", () => {
  const whole = parseBody(TEXT, "csv").records.map((r) => r.value);

  test("the tricky CSV parses whole into the rows it was written with", () => {
    expect(whole).toEqual([
      { time: "2024-01-01T00:00:00Z", "na,me": "a", note: "one\nline two" },
      { time: "2024-01-01T00:01:00Z", "na,me": 'b "q"', note: "x\r\ny" },
      { time: "2024-01-01T00:02:00Z", "na,me": "c", note: "" },
      { time: "2024-01-01T00:03:00Z", "na,me": 'd"e', note: '"\n"' },
      { time: "2024-01-01T00:04:00Z", "na,me": null, note: "last" },
    ]);
  });

  test("push() returns only whole records at every split point, and every pair of split points", () => {
    let checked = 0;
    for (let i = 0; i <= TEXT.length; i++) {
      for (let j = i; j <= TEXT.length; j++) {
        const batches = split([TEXT.slice(0, i), TEXT.slice(i, j), TEXT.slice(j)]);
        expect(batches.join("")).toBe(TEXT);
        // Every batch but the end's rest ends with a record's newline, and each parses on its own.
        const header = TEXT.slice(0, firstCsvRecordEnd(TEXT));
        let rows: unknown[] = [];
        for (const [k, b] of batches.entries()) {
          if (k < batches.length - 1) expect(b.endsWith("\n")).toBe(true);
          const body = k === 0 ? b : header + b;
          rows = rows.concat(parseBody(body, "csv").records.map((r) => r.value));
        }
        expect(rows).toEqual(whole);
        checked++;
      }
    }
    expect(checked).toBe(((TEXT.length + 1) * (TEXT.length + 2)) / 2);
  });

  test("push() one character at a time returns each record when its newline outside quotes arrives", () => {
    const s = new CsvRecordSplitter();
    const batches: string[] = [];
    for (const c of TEXT) {
      const b = s.push(c);
      if (b !== "") batches.push(b);
    }
    expect(batches).toEqual([HEADER, ...ROWS.slice(0, -1)]);
    expect(s.end()).toBe(ROWS.at(-1)!);
  });

  test("an unclosed quoted field stays pending until the end, where the parser names it", () => {
    const s = new CsvRecordSplitter();
    expect(s.push('a,b\n1,"open\n2,3\n')).toBe("a,b\n");
    const rest = s.end();
    expect(rest).toBe('1,"open\n2,3\n');
    expect(() => parseBody(`a,b\n${rest}`, "csv")).toThrow("a quoted field is not closed");
  });

  test("firstCsvRecordEnd() finds a header whose quoted name holds a newline; -1 when none ends", () => {
    expect(firstCsvRecordEnd('"a\nb",c\n1,2\n')).toBe(8);
    expect(firstCsvRecordEnd('"a\nb",c')).toBe(-1);
    expect(recordsOf([TEXT])).toEqual(whole);
  });
});
