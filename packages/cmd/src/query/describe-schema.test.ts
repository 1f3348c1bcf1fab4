import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pond } from "@pond/steward";
import { WD, type VersionInfo } from "@pond/tinyfs";
import type { TLogView } from "@pond/tlogfs";
import { describeFromPayloads, recordedSchema } from "./describe-schema.ts";
import { prepareIngest } from "./ingest.ts";
import { FIXTURES } from "../../../../test/support/fixtures.ts";

const PARQUET = join(FIXTURES, "parquet");
const parquetFiles = [
  ...readdirSync(join(PARQUET, "duckdb"))
    .filter((f) => f.endsWith(".parquet"))
    .map((f) => join(PARQUET, "duckdb", f)),
  ...readdirSync(join(PARQUET, "parquet-testing/data"))
    .filter((f) => f.endsWith(".parquet"))
    .map((f) => join(PARQUET, "parquet-testing/data", f)),
];

describe("describeSchema(): what ingest recorded is what DuckDB reads from the footers", () => {
  let dir: string;
  let pond: Pond;
  let view: TLogView;
  const versionsOf = async (path: string): Promise<VersionInfo[]> => (await new WD(view).stat(path)).versions!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "describe-schema-"));
    pond = await Pond.init(join(dir, "pond"), ["test"]);
    const csv = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const same = [csv("a.csv", "timestamp,v\n2020-01-01T00:00:00Z,1\n2020-01-02T00:00:00Z,2\n"), csv("b.csv", "timestamp,v\n2021-01-01T00:00:00Z,3\n")];
    const differ = [csv("c.csv", "timestamp,v\n2020-01-01T00:00:00Z,1\n"), csv("d.csv", "timestamp,v,extra\n2021-01-01T00:00:00Z,2.5,x\n")];
    const staging = join(pond.paths.data, "_large_files");
    await pond.write(["test"], async ({ txn }) => {
      const wd = new WD(txn);
      for (const [i, path] of parquetFiles.entries()) {
        const p = await prepareIngest({ kind: "host", format: "table", path, raw: path }, {}, staging);
        await wd.createFile(`/t${i}.table`, p.entryType, p.content, p.options);
      }
      for (const [name, files] of [
        ["same", same],
        ["differ", differ],
      ] as const) {
        for (const path of files) {
          const p = await prepareIngest({ kind: "host", format: "series+csv", path, raw: path }, {}, staging);
          await wd.createFile(`/${name}.series`, p.entryType, p.content, p.options).finally(p.cleanup);
        }
      }
    });
    view = await pond.persistence.view();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`every Parquet fixture (${parquetFiles.length}) stored as a table: the same columns, types and rows`, async () => {
    let answered = 0;
    for (const [i, path] of parquetFiles.entries()) {
      const versions = await versionsOf(`/t${i}.table`);
      const recorded = recordedSchema(versions);
      const fromFooters = await describeFromPayloads(view, versions);
      if (recorded === undefined) {
        // Only named nested types decline (see recordedSchema).
        expect(
          fromFooters.columns.some((c) => /STRUCT|MAP|UNION/.test(c.type)),
          path,
        ).toBe(true);
        continue;
      }
      expect(recorded, path).toEqual(fromFooters);
      answered++;
    }
    expect(answered).toBeGreaterThanOrEqual(20); // 21 of the 29 when written: declining everything would fail
  }, 120_000);

  test("a series whose versions have the same columns: the same answer, rows summed", async () => {
    const versions = await versionsOf("/same.series");
    const recorded = recordedSchema(versions)!;
    expect(recorded.rows).toBe(3);
    expect(recorded.timestampColumn).toBe("timestamp");
    expect(recorded).toEqual(await describeFromPayloads(view, versions));
  });

  test("a series whose versions differ is left to DuckDB (it unions them by name, widening types)", async () => {
    const versions = await versionsOf("/differ.series");
    expect(recordedSchema(versions)).toBeUndefined();
    const d = await describeFromPayloads(view, versions);
    expect(d.columns.map((c) => c.name)).toEqual(["timestamp", "v", "extra"]);
    expect(d.rows).toBe(2);
  });

  test("versions without recorded columns or rows are left to DuckDB", () => {
    const v = { version: 1, timestamp: 0n, size: 1, sha256: "x", attributes: { rows: 3 } } as VersionInfo;
    expect(recordedSchema([v])).toBeUndefined();
    expect(recordedSchema([{ ...v, attributes: { columns: [{ name: "a", type: "INTEGER" }] } }])).toBeUndefined();
    expect(recordedSchema([{ ...v, attributes: { rows: 2, columns: [{ name: "a" }] } }])).toBeUndefined();
    expect(recordedSchema([])).toBeUndefined();
  });
});
