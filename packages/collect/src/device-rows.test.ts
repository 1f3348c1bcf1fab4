import { describe, expect, test } from "bun:test";
import { seededRandom } from "@pond/tinyfs/testing";
import { addPageReadings, addReading, ArrayPool, columnOf, deviceTable, newDeviceRows, releaseDeviceRows } from "./device-rows.ts";

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
    const pool = new ArrayPool(); // shared by the rounds, as by a lane's devices: reused arrays hold old values
    for (let round = 0; round < 200; round++) {
      const cols = ["a.x", "b.y", "c.z"];
      const pages: { col: string; readings: { timestamp: number; value: number }[] }[][] = [];
      let t0 = 1_600_000_000 + rnd.int(1000);
      const shared = round % 2 === 0;
      const lateFrom = rnd.int(4);
      for (let n = rnd.int(8); n > 0; n--) {
        const pageTimes = Array.from({ length: 1 + rnd.int(20) }, (_, i) => t0 + i);
        const page = [];
        for (const col of cols) {
          if (!shared && rnd.int(4) === 0) continue; // a parameter missing from a page
          const readings = [];
          if (shared) {
            // The parameters share the page's times (as a logger's do), one of them only from a later page on.
            if (col !== "c.z" || pages.length >= lateFrom) for (const t of pageTimes) readings.push({ timestamp: t, value: rnd.int(1000) / 10 });
          } else for (let k = rnd.int(30); k > 0; k--) readings.push({ timestamp: t0 - 20 + rnd.int(60), value: rnd.int(1000) / 10 });
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
      const d = newDeviceRows(pool);
      for (const page of pages) for (const p of page) addPageReadings(d, columnOf(d, p.col), p.readings, startTime);
      d.cutoff = cutoff;
      const want = model(pages, startTime, cutoff);
      const got = deviceTable(d);
      expect([...got.times]).toEqual(want.times);
      expect(got.columns.map((c) => ({ name: c.name, values: [...c.values] }))).toEqual(want.columns.filter((c) => c.values.some((v) => !Number.isNaN(v))));
      releaseDeviceRows(d);
    }
  });

  test("deviceTable() of parameters whose times are stretches of one parameter's, and of one with a gap (merged)", () => {
    const d = newDeviceRows();
    const [a, b, c] = [columnOf(d, "a.x"), columnOf(d, "b.x"), columnOf(d, "c.x")];
    for (const t of [10, 20, 30, 40]) addReading(d, a, t, t);
    for (const t of [20, 30]) addReading(d, b, t, -t); // a stretch in the middle
    addReading(d, c, 40, 4); // the last one only
    let t = deviceTable(d);
    expect([...t.times]).toEqual([10, 20, 30, 40]);
    expect(t.columns.map((x) => [x.name, [...x.values]])).toEqual([
      ["a.x", [10, 20, 30, 40]],
      ["b.x", [Number.NaN, -20, -30, Number.NaN]],
      ["c.x", [Number.NaN, Number.NaN, Number.NaN, 4]],
    ]);
    addReading(d, c, 50, 5); // past a's last time: not a stretch of a's times any more
    addReading(d, b, 25, -25); // …nor is b's
    d.cutoff = 50;
    t = deviceTable(d);
    expect([...t.times]).toEqual([10, 20, 25, 30, 40]);
    expect(t.columns.map((x) => [x.name, [...x.values]])).toEqual([
      ["a.x", [10, 20, Number.NaN, 30, 40]],
      ["b.x", [Number.NaN, -20, -25, -30, Number.NaN]],
      ["c.x", [Number.NaN, Number.NaN, Number.NaN, Number.NaN, 4]],
    ]);
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
