import { describe, expect, test } from "bun:test";
import { decimate, niceTicks, renderSvg, timeTicks } from "./chart-svg.ts";
import { randomFrom } from "@pond/tinyfs/testing";

/** The project's seeded generator (tinyfs random.ts) as a function, so a failing run replays from its seed. */
function rng(seed: number): () => number {
  const r = randomFrom(seed);
  return () => r.next();
}

describe("decimate", () => {
  test("decimate() keeps every pixel column's first, min, max and last point", () => {
    const seed = Number(process.env.POND_SEED ?? Math.floor(Math.random() * 1e9));
    console.error(`decimate seed ${seed} (POND_SEED=${seed} replays it)`);
    const r = rng(seed);
    const n = 100_000;
    const t = Float64Array.from({ length: n }, (_, i) => i * 60);
    const v = Float64Array.from({ length: n }, () => r() * 100 - 50);
    const px = 500;
    const d = decimate(t, v, 0, t[n - 1]!, px);
    expect(d.t.length).toBeLessThanOrEqual(px * 4 + 4);
    // Per pixel column: the same min and max as the full data.
    const col = (x: number) => Math.floor((x / t[n - 1]!) * px);
    const stats = (tt: Float64Array, vv: Float64Array) => {
      const m = new Map<number, [number, number]>();
      tt.forEach((x, i) => {
        const c = col(x);
        const s = m.get(c) ?? [Infinity, -Infinity];
        m.set(c, [Math.min(s[0], vv[i]!), Math.max(s[1], vv[i]!)]);
      });
      return m;
    };
    expect(stats(d.t, d.v)).toEqual(stats(t, v));
    expect([...d.t].every((x, i) => i === 0 || x >= d.t[i - 1]!)).toBe(true);
  });

  test("decimate() keeps a NULL as a break in the line", () => {
    const n = 10_000;
    const t = Float64Array.from({ length: n }, (_, i) => i);
    const v = Float64Array.from({ length: n }, (_, i) => (i === 5000 ? Number.NaN : i));
    const d = decimate(t, v, 0, n - 1, 100);
    expect([...d.v].some(Number.isNaN)).toBe(true);
  });
});

describe("ticks", () => {
  test("niceTicks() gives round values inside the range", () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(7.13, 7.91)).toEqual([7.2, 7.4, 7.6, 7.8]);
  });

  test("timeTicks() picks UTC steps fitting the span", () => {
    const day = Date.UTC(2025, 5, 1) / 1000;
    expect(timeTicks(day, day + 2 * 86400).map((x) => x.label)).toEqual(["2025-06-01", "12:00", "2025-06-02", "12:00", "2025-06-03"]);
    expect(timeTicks(Date.UTC(2025, 0, 1) / 1000, Date.UTC(2025, 11, 31) / 1000).map((x) => x.label)).toEqual(["2025-01", "2025-04", "2025-07", "2025-10"]);
    expect(timeTicks(Date.UTC(1958, 2, 1) / 1000, Date.UTC(2020, 3, 1) / 1000).map((x) => x.label)).toEqual(["1960", "1980", "2000", "2020"]);
  });
});

describe("renderSvg", () => {
  test("renderSvg() draws one path per panel, with escaped titles and a break at NULL", () => {
    const t = Float64Array.from([0, 60, 120, 180]);
    const svg = renderSvg({
      title: "a <b> & c",
      width: 600,
      start: 0,
      end: 180,
      panels: [
        { column: "temp", unit: "°C", t, v: Float64Array.from([1, 2, Number.NaN, 4]) },
        { column: "do", t, v: Float64Array.from([5, 6, 7, 8]) },
      ],
    });
    expect(svg).toStartWith('<svg xmlns="http://www.w3.org/2000/svg" width="600"');
    expect(svg).toContain("a &lt;b&gt; &amp; c");
    expect(svg).toContain("temp (°C)");
    const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths.length).toBe(2);
    expect(paths[0]!.match(/M/g)!.length).toBe(2);
    expect(paths[1]!.match(/[ML]/g)!.length).toBe(4);
  });
});
