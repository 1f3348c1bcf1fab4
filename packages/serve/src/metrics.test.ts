import { describe, expect, test } from "bun:test";
import { Counter, Gauge, Histogram, Registry } from "./metrics.ts";

/** The samples of a text exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe("metrics", () => {
  test("Counter.inc() adds per label set, labels sorted and escaped in the text", () => {
    const r = new Registry();
    const c = r.counter("pond_x_total", "Things");
    c.inc({ route: "/sql", code: "200" });
    c.inc({ code: "200", route: "/sql" }, 2);
    c.inc({ route: 'a"b\\c\nd' });
    const text = r.render();
    expect(text).toContain("# HELP pond_x_total Things\n# TYPE pond_x_total counter\n");
    const s = samples(text);
    expect(s.get('pond_x_total{code="200",route="/sql"}')).toBe(3);
    expect(s.get('pond_x_total{route="a\\"b\\\\c\\nd"}')).toBe(1);
    expect(c.get({ route: "/sql", code: "200" })).toBe(3);
    expect(text.endsWith("\n")).toBe(true);
  });

  test("Counter.inc() refuses to go down", () => {
    expect(() => new Counter("c", "h").inc(undefined, -1)).toThrow(RangeError);
  });

  test("Gauge.set() replaces the value; no labels renders a bare name", () => {
    const r = new Registry();
    const g = r.gauge("pond_g", "G");
    g.set(5);
    g.set(7);
    expect(samples(r.render()).get("pond_g")).toBe(7);
    expect(new Gauge("x", "y").get()).toBe(0);
  });

  test("Histogram.observe() fills cumulative buckets, +Inf, sum and count", () => {
    const r = new Registry();
    const h = r.histogram("pond_h_seconds", "H", [0.1, 1]);
    h.observe(0.05, { route: "a" });
    h.observe(0.5, { route: "a" });
    h.observe(5, { route: "a" });
    const s = samples(r.render());
    expect(s.get('pond_h_seconds_bucket{route="a",le="0.1"}')).toBe(1);
    expect(s.get('pond_h_seconds_bucket{route="a",le="1"}')).toBe(2);
    expect(s.get('pond_h_seconds_bucket{route="a",le="+Inf"}')).toBe(3);
    expect(s.get('pond_h_seconds_sum{route="a"}')).toBeCloseTo(5.55);
    expect(s.get('pond_h_seconds_count{route="a"}')).toBe(3);
    expect(h.count({ route: "a" })).toBe(3);
    expect(r.render()).toContain("# TYPE pond_h_seconds histogram");
  });

  test("Registry returns the same metric for a name registered twice, and refuses another kind or a bad name", () => {
    const r = new Registry();
    expect(r.counter("pond_a", "x")).toBe(r.counter("pond_a", "x"));
    expect(() => r.gauge("pond_a", "x")).toThrow(/another kind/);
    expect(() => r.counter("1bad-name", "x")).toThrow(/not a Prometheus name/);
    expect(new Histogram("h", "x").buckets.length).toBeGreaterThan(5);
  });

  test("render() writes NaN and infinities as Prometheus spells them", () => {
    const r = new Registry();
    const g = r.gauge("pond_v", "v");
    g.set(Number.NaN, { k: "nan" });
    g.set(Number.POSITIVE_INFINITY, { k: "inf" });
    g.set(Number.NEGATIVE_INFINITY, { k: "ninf" });
    const text = r.render();
    expect(text).toContain('pond_v{k="nan"} NaN');
    expect(text).toContain('pond_v{k="inf"} +Inf');
    expect(text).toContain('pond_v{k="ninf"} -Inf');
  });
});
