import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES } from "../../../../test/support/fixtures.ts";
import { SqlError } from "../errors.ts";
import { openDuckDB, type Duck } from "../sql/duckdb.ts";
import { csvReader, unsniffedCsvReader, type CsvOptions } from "./csv-reader.ts";

let duck: Duck;
let dir: string;
beforeAll(async () => {
  duck = await openDuckDB({ threads: 1 });
  dir = mkdtempSync(join(tmpdir(), "pond-csv-reader-"));
});
afterAll(() => {
  duck.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Files the sniffer reads right, falls back on, or refuses; each names what it probes. */
const MADE: Record<string, string | Buffer> = {
  "plain.csv": "a,b\n1,2\n3,4\n",
  "one-column.csv": "v\n1\n2\n3\n",
  "crlf.csv": "a;b\r\n1;2\r\n3;4\r\n",
  "bom.csv": "\uFEFFid,name\n1,Mark\n",
  "ragged.csv": "a,b\n1,2\n3,4,5\n6,7\n",
  "badquote.csv": 'a,b\n1,"x\n2,y\n',
  "latin1.csv": Buffer.from("a,b\n1,caf\xe9\n", "latin1"),
  // The header has no comma, the rows do: the sniffer falls back to one column of text.
  "title-line.csv": "title\na,b\n1,2\n3,4\n",
  "other-header-delimiter.csv": "x;y\n1,2\n3,4\n5,6\n",
  "semicolon-preamble.csv": ";meta line\na,b\n1,2\n3,4\n",
  "hash-preamble.csv": "#meta line\na,b\n1,2\n3,4\n",
  "blank-first.csv": "\na,b\n1,2\n",
  "no-newline.csv": "a,b",
  "cr-only.csv": "a,b\r1,2\r3,4\r",
  "tab.tsv": "a\tb\n1\t2\n",
};

function files(): string[] {
  const spectrum = join(FIXTURES, "csv-edge/csv-spectrum");
  const duckdb = join(FIXTURES, "csv-edge/duckdb");
  const ts = join(FIXTURES, "timeseries");
  for (const [name, content] of Object.entries(MADE)) writeFileSync(join(dir, name), content);
  return [
    ...Object.keys(MADE).map((f) => join(dir, f)),
    ...readdirSync(spectrum)
      .filter((f) => f.endsWith(".csv"))
      .map((f) => join(spectrum, f)),
    ...readdirSync(duckdb)
      .filter((f) => f.endsWith(".csv"))
      .map((f) => join(duckdb, f)),
    ...readdirSync(join(ts, "vega-datasets"))
      .filter((f) => f.endsWith(".csv") || f.endsWith(".tsv"))
      .map((f) => join(ts, "vega-datasets", f)),
    ...[
      "usgs-dataRetrieval-R/RDB1Example.txt",
      "usgs-dataRetrieval-R/infoTest.csv",
      "twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv",
      "ross-poudre-sonde/prospect-Depth_head_6hr.csv",
    ].map((f) => join(ts, f)),
  ];
}

async function checked(path: string, opts: CsvOptions): Promise<string> {
  try {
    return await csvReader(duck, path, opts, path);
  } catch (e) {
    return `refused: ${(e as Error).constructor.name}`;
  }
}

describe("unsniffedCsvReader()", () => {
  test("whenever its reader reads a file and vouches for the columns it gave, csvReader (which sniffs first) chooses the same reader", async () => {
    const variants: CsvOptions[] = [{}, { header: false }, { skip: 1 }];
    let vouched = 0;
    let notVouched = 0;
    let notOffered = 0;
    const outcomes: Record<string, string> = {};
    for (const f of files()) {
      for (const opts of variants) {
        const name = `${f.slice(f.lastIndexOf("/") + 1)} ${JSON.stringify(opts)}`;
        const fast = unsniffedCsvReader(f, opts);
        if (!fast) {
          notOffered++;
          continue;
        }
        let columns: number;
        try {
          // What the conversion does with it: read every row (strict errors appear only then).
          columns = (await duck.columns(`SELECT * FROM ${fast.reader}`)).length;
          await duck.all(`SELECT count(*) FROM ${fast.reader}`);
        } catch (e) {
          if (!(e instanceof SqlError)) throw e;
          outcomes[name] = "read failed: csvReader decides";
          continue;
        }
        if (!fast.exactWith(columns)) {
          notVouched++;
          outcomes[name] = "not vouched: csvReader decides";
          continue;
        }
        vouched++;
        expect({ name, reader: await checked(f, opts) }).toEqual({ name, reader: fast.reader });
      }
    }
    // Each branch was taken, so the comparison above is not vacuous.
    expect(vouched).toBeGreaterThan(50);
    expect(notVouched).toBeGreaterThan(8);
    expect(notOffered).toBeGreaterThan(50);
    expect(outcomes["title-line.csv {}"]).toBe("not vouched: csvReader decides");
    expect(outcomes["other-header-delimiter.csv {}"]).toBe("not vouched: csvReader decides");
    // A ragged row makes the sniffer fall back too (one column of text): csvReader then refuses it.
    expect(outcomes["ragged.csv {}"]).toBe("not vouched: csvReader decides");
    expect(await checked(join(dir, "ragged.csv"), {})).toBe("refused: BadCsvError");
    expect(outcomes["latin1.csv {}"]).toBe("read failed: csvReader decides");
  });

  test("is not offered when the sample holds a quote, a leading blank or # line, no whole first line, or a delimiter is given", () => {
    files();
    for (const f of ["badquote.csv", "blank-first.csv", "hash-preamble.csv", "no-newline.csv", "cr-only.csv"]) {
      expect({ f, offered: unsniffedCsvReader(join(dir, f), {}) !== undefined }).toEqual({ f, offered: false });
    }
    expect(unsniffedCsvReader(join(dir, "plain.csv"), { delimiter: "," })).toBeUndefined();
    expect(unsniffedCsvReader(join(dir, "plain.csv"), { sniffAllRows: true })).toBeUndefined();
    // After --skip 1 the first line is whole and plain.
    expect(unsniffedCsvReader(join(dir, "hash-preamble.csv"), { skip: 1 })?.reader).toContain("skip=1");
    expect(unsniffedCsvReader(join(dir, "plain.csv"), {})?.exactWith(1)).toBe(false);
    expect(unsniffedCsvReader(join(dir, "plain.csv"), {})?.exactWith(2)).toBe(true);
  });
});
