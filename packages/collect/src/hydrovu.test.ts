import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readParquetRaw } from "@pond/oplog";
import { addReading, columnOf, newDeviceRows } from "./device-rows.ts";
import { redact, stageDevice } from "./hydrovu.ts";

describe("redact", () => {
  test("redact() blanks each secret, also URL-encoded as a form sends it", () => {
    const form = new URLSearchParams({ client_id: "id 1", client_secret: "s/e+c=r&t" }).toString();
    const out = redact(`HTTP 400: bad grant in ${form} (raw s/e+c=r&t)`, ["id 1", "s/e+c=r&t"]);
    expect(out).toBe("HTTP 400: bad grant in client_id=***&client_secret=*** (raw ***)");
  });

  test("redact() leaves text without secrets alone and ignores empty ones", () => {
    expect(redact("HTTP 500", ["", "abc"])).toBe("HTTP 500");
  });
});

describe("a device's rows", () => {
  const plan = { id: 7, name: "d7", series: "/hv/d7.series", startTime: 0, watermark: null };
  const staging = () => mkdtempSync(join(tmpdir(), "pond-hydrovu-"));

  async function read(parquet: string) {
    return readParquetRaw(new Uint8Array(readFileSync(parquet)));
  }

  test("stageDevice() writes rows sorted by time, one per timestamp, first value kept, nulls where a parameter has no reading", async () => {
    const d = newDeviceRows();
    const temp = columnOf(d, "Temperature.C");
    // Out of order and repeated, as pages overlap.
    addReading(d, temp, 120, 2);
    addReading(d, temp, 60, 1);
    addReading(d, temp, 120, 99); // a repeat on a later page: the first value stays
    const ph = columnOf(d, "pH.pH"); // appears later: earlier rows have no value
    addReading(d, ph, 180, 7.5);
    addReading(d, temp, 180, 3);
    const dir = staging();
    try {
      const s = (await stageDevice(plan, d, dir))!;
      expect(s).toMatchObject({ rows: 3, columns: ["Temperature.C", "pH.pH"], first: 60, last: 180 });
      const t = (await read(s.parquet))!;
      expect(t.columns.map((c) => [c.name, c.physical, c.logical ?? "", c.unit ?? ""])).toEqual([
        ["timestamp", "INT64", "TIMESTAMP", "MICROS"],
        ["Temperature.C", "DOUBLE", "", ""],
        ["pH.pH", "DOUBLE", "", ""],
      ]);
      expect(t.rows).toEqual([
        [60_000_000n, 1, null],
        [120_000_000n, 2, null],
        [180_000_000n, 3, 7.5],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("stageDevice() leaves out rows at or after the cutoff and columns with no value left; nothing at all gives no file", async () => {
    for (const ascending of [true, false]) {
      const d = newDeviceRows();
      const a = columnOf(d, "a.x");
      const late = columnOf(d, "late.x");
      const times = ascending ? [10, 20, 30, 40] : [30, 10, 40, 20];
      for (const t of times) addReading(d, a, t, t / 10);
      addReading(d, late, 40, 1); // only past the cutoff
      d.cutoff = 30;
      const dir = staging();
      try {
        const s = (await stageDevice(plan, d, dir))!;
        expect(s).toMatchObject({ rows: 2, columns: ["a.x"], first: 10, last: 20 });
        expect((await read(s.parquet))!.rows).toEqual([
          [10_000_000n, 1],
          [20_000_000n, 2],
        ]);
        d.cutoff = 5;
        expect(await stageDevice(plan, d, dir)).toBeUndefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
