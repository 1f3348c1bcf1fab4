import { describe, expect, test } from "bun:test";
import { seededRandom } from "@pond/tinyfs/testing";
import { addPageReadings, addReading, columnOf, deviceTable, newDeviceRows } from "./device-rows.ts";

/** What the rows must be: the first value seen for each (time, column), times at or after startTime and before cutoff. */
function model(pages: { col: string; readings: { timestamp: number; value: number }[] }[][], startTime: number, cutoff: number) {
  const first = new Map<string, Map<number, number>>();
  for (const page of pages)
    for (const p of page)
      for (const r of p.readings) {
        if (r.timestamp < startTime || r.timestamp >= cutoff) continue;
        if (!first.has(p.col)) first.set(p.col, new Map());
        const m = first.get(p.col)!;
        if (!m.has(r.timestamp)) m.set(r.timestamp, r.value);
      }
  const times = [...new Set([...first.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const columns = [...first.keys()].sort().map((name) => ({ name, values: times.map((t) => first.get(name)!.get(t) ?? Number.NaN) }));
  return { times, columns };
}

describe("deviceTable", () => {
  test("deviceTable() of random pages (overlapping, newest first, out of order, repeated with other values) equals the first value seen per time and column", () => {
    const rnd = seededRandom("device rows");
    for (let round = 0; round < 200; round++) {
      const cols = ["a.x", "b.y", "c.z"];
      const pages: { col: string; readings: { timestamp: number; value: number }[] }[][] = [];
      let t0 = 1_600_000_000 + rnd.int(1000);
      for (let n = rnd.int(8); n > 0; n--) {
        const page = [];
        for (const col of cols) {
          if (rnd.int(4) === 0) continue; // a parameter missing from a page
          const readings = [];
          for (let k = rnd.int(30); k > 0; k--) readings.push({ timestamp: t0 - 20 + rnd.int(60), value: rnd.int(1000) / 10 });
          const order = rnd.int(3);
          if (order === 0) readings.sort((a, b) => b.timestamp - a.timestamp); // newest first, maybe with repeats
          if (order === 1) {
            // strictly decreasing: the fast path
            const seen = new Set<number>();
            readings.splice(0, readings.length, ...readings.filter((r) => !seen.has(r.timestamp) && seen.add(r.timestamp)));
            readings.sort((a, b) => b.timestamp - a.timestamp);
          }
          page.push({ col, readings });
        }
        pages.push(page);
        t0 += rnd.int(50);
      }
      const startTime = 1_600_000_000 + rnd.int(600);
      const cutoff = rnd.int(3) === 0 ? t0 - rnd.int(100) : Infinity;
      const d = newDeviceRows();
      for (const page of pages) for (const p of page) addPageReadings(d, columnOf(d, p.col), p.readings, startTime);
      d.cutoff = cutoff;
      const want = model(pages, startTime, cutoff);
      const got = deviceTable(d);
      expect([...got.times]).toEqual(want.times);
      expect(got.columns.map((c) => ({ name: c.name, values: [...c.values] }))).toEqual(want.columns.filter((c) => c.values.some((v) => !Number.isNaN(v))));
    }
  });

  test("addPageReadings() returns the page's earliest time, also of readings before startTime", () => {
    const d = newDeviceRows();
    const c = columnOf(d, "a.x");
    expect(
      addPageReadings(
        d,
        c,
        [
          { timestamp: 30, value: 3 },
          { timestamp: 20, value: 2 },
          { timestamp: 10, value: 1 },
        ],
        15,
      ),
    ).toBe(10);
    expect(
      addPageReadings(
        d,
        c,
        [
          { timestamp: 40, value: 4 },
          { timestamp: 5, value: 0 },
          { timestamp: 50, value: 5 },
        ],
        15,
      ),
    ).toBe(5);
    addReading(d, c, 20, 99); // a repeat: the first value stays
    const t = deviceTable(d);
    expect([...t.times]).toEqual([20, 30, 40, 50]);
    expect([...t.columns[0]!.values]).toEqual([2, 3, 4, 5]);
  });
});
