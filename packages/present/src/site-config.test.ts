import { describe, expect, test } from "bun:test";
import { parseSiteConfig } from "./site-config.ts";
import { SiteConfigError } from "./errors.ts";
import { parseDurationMs, parseReduceInOut, reductionFolder } from "./site-reductions.ts";

function errorOf(f: () => unknown): SiteConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof SiteConfigError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

describe("parseSiteConfig", () => {
  test("parseSiteConfig() reads every key", () => {
    const c = parseSiteConfig(
      `title: Lake station
units: { temp: "°C" }
groups: [Lake, River]
series:
  - path: /st/lake.series
    title: Lake buoy
    group: Lake
    columns: [temp, do]
    units: { do: mg/L }
    reductions: /reduced/lake
`,
      "/etc/site.yaml",
    );
    expect(c).toEqual({
      file: "/etc/site.yaml",
      title: "Lake station",
      units: { temp: "°C" },
      groups: ["Lake", "River"],
      series: [{ path: "/st/lake.series", title: "Lake buoy", group: "Lake", columns: ["temp", "do"], units: { do: "mg/L" }, reductions: "/reduced/lake" }],
    });
  });

  test("parseSiteConfig() of an empty file is every series with defaults", () => {
    expect(parseSiteConfig("", "/etc/site.yaml")).toEqual({ file: "/etc/site.yaml", units: {}, groups: [] });
  });

  test("parseSiteConfig() names the file, the key and what is allowed", () => {
    const unknown = errorOf(() => parseSiteConfig("titel: x\n", "/etc/site.yaml"));
    expect(unknown.code).toBe("bad_site_config");
    expect(unknown.message).toBe('Site config "/etc/site.yaml", key "titel": unknown key; allowed here: title, units, groups, series');
    expect(errorOf(() => parseSiteConfig("series:\n  - path: /a.series\n    colums: [a]\n")).message).toContain(
      'key "series[0].colums": unknown key; allowed here: path, title, group, columns, units, reductions',
    );
    expect(errorOf(() => parseSiteConfig("series:\n  - title: x\n")).message).toContain('key "series[0].path": missing; it is required');
    expect(errorOf(() => parseSiteConfig("series:\n  - path: a.series\n")).message).toContain("is not an absolute pond path");
    expect(errorOf(() => parseSiteConfig("series:\n  - path: /a.series\n    columns: temp\n")).message).toContain(
      'key "series[0].columns": expected a non-empty list of names',
    );
    expect(errorOf(() => parseSiteConfig("groups: [A]\nseries:\n  - path: /a.series\n    group: B\n")).message).toContain(
      'key "series[0].group": "B" is not one of groups: A',
    );
    expect(errorOf(() => parseSiteConfig("units: { temp: 3 }\n")).message).toContain('key "units.temp": expected a unit as text');
    expect(errorOf(() => parseSiteConfig("title: [a\n")).message).toContain("not valid YAML");
    expect(errorOf(() => parseSiteConfig("- a\n")).message).toContain("expected a mapping with keys title, units, groups, series, got a list");
  });
});

describe("reduction configs", () => {
  test("parseReduceInOut() reads in and out and ignores the reduce command's other keys", () => {
    expect(parseReduceInOut("in: /st/*.series\nout: /reduced/\nresolutions: [1h]\naggregations: [avg]\nlateness: 1d\n", "/etc/reduce/a.yaml")).toEqual({
      in: "/st/*.series",
      out: "/reduced",
    });
    expect(errorOf(() => parseReduceInOut("in: /st/*.series\n", "/etc/reduce/a.yaml")).message).toBe(
      'Site config "/etc/reduce/a.yaml", key "out": expected an absolute pond folder, got null',
    );
  });

  test("parseDurationMs() reads the resolutions of res=<dur>.series names", () => {
    expect(["30s", "15m", "15min", "1h", "6h", "1d", "7d", "1w"].map(parseDurationMs)).toEqual([
      30_000, 900_000, 900_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000, 604_800_000,
    ]);
    expect(["", "h", "0h", "1y", "1.5h"].map(parseDurationMs)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  test("reductionFolder() is <out>/<name without .series>", () => {
    expect(reductionFolder("/reduced", "/st/lake.series")).toBe("/reduced/lake");
    expect(reductionFolder("/", "/lake.series")).toBe("/lake");
  });
});
