import { describe, expect, test } from "bun:test";
import { isReduceConfigPath, parseReduceConfig, parseResolution } from "./reduce-config.ts";

const F = "/etc/reduce/lake.yaml";

describe("parseReduceConfig", () => {
  test("parseReduceConfig() reads a full config with per-column aggregations", () => {
    const c = parseReduceConfig(
      "in: /st/*.series\nout: /reduced/\nresolutions: [1h, 6h, 1d, 7d]\naggregations: {temp: [avg, max], rain: [sum]}\nlateness: 2d\n",
      F,
    );
    expect(c.in).toBe("/st/*.series");
    expect(c.out).toBe("/reduced");
    expect(c.resolutions.map((r) => [r.spelling, r.micros, r.interval])).toEqual([
      ["1h", 3_600_000_000n, "INTERVAL 1 HOUR"],
      ["6h", 21_600_000_000n, "INTERVAL 6 HOUR"],
      ["1d", 86_400_000_000n, "INTERVAL 1 DAY"],
      ["7d", 604_800_000_000n, "INTERVAL 7 DAY"],
    ]);
    expect(c.aggregations).toEqual({
      columns: [
        ["temp", ["avg", "max"]],
        ["rain", ["sum"]],
      ],
    });
    expect(c.lateness.micros).toBe(2n * 86_400_000_000n);
  });

  test("parseReduceConfig() defaults lateness to 1d and takes a list for all numeric columns", () => {
    const c = parseReduceConfig("in: /a.series\nout: /r\nresolutions: [15m]\naggregations: [count]\n", F);
    expect(c.lateness.spelling).toBe("1d");
    expect(c.aggregations).toEqual({ all: ["count"] });
  });

  test("parseReduceConfig() names the file, the key and what is allowed", () => {
    const bad = (yaml: string) => () => parseReduceConfig(yaml, F);
    const ok = "in: /a.series\nout: /r\nresolutions: [1h]\naggregations: [avg]\n";
    expect(bad(ok + "lateness: soon\n")).toThrow(`Reduction config "${F}", key "lateness": expected a whole number and a unit s, m, h, d or w`);
    expect(bad(ok + "extra: 1\n")).toThrow('key "extra": unknown key; allowed: in, out, resolutions, aggregations, lateness');
    expect(bad(ok.replace("[avg]", "[avg, median]"))).toThrow('key "aggregations[1]": expected one of avg, min, max, count, sum, first, last, got "median"');
    expect(bad(ok.replace("[1h]", "[1h, 60m]"))).toThrow('key "resolutions[1]": 60m is the same width as 1h');
    expect(bad(ok.replace("[1h]", "[1 hour]"))).toThrow('key "resolutions[0]"');
    expect(bad(ok.replace("in: /a.series\n", ""))).toThrow('key "in": missing; it is required');
    expect(bad(ok.replace("out: /r", "out: reduced"))).toThrow('key "out": expected an absolute pond folder');
    expect(bad(ok.replace("[avg]", "{temp: avg}"))).toThrow('key "aggregations.temp": expected a non-empty list');
    expect(bad("in: [oops\n")).toThrow("not valid YAML");
    expect(bad("- a\n")).toThrow("expected a YAML mapping");
  });

  test("parseResolution() takes whole numbers of s, m, h, d, w only", () => {
    expect(parseResolution("2w")?.interval).toBe("INTERVAL 14 DAY");
    expect(parseResolution("30s")?.micros).toBe(30_000_000n);
    for (const s of ["0h", "1.5h", "1M", "h", "1y", "-1d"]) expect(parseResolution(s)).toBeUndefined();
  });

  test("isReduceConfigPath() is true only for files directly under /etc/reduce/", () => {
    expect(isReduceConfigPath("/etc/reduce/a.yaml")).toBe(true);
    expect(isReduceConfigPath("/etc/reduce/")).toBe(false);
    expect(isReduceConfigPath("/etc/reducer/a.yaml")).toBe(false);
  });
});
