import { describe, expect, test } from "bun:test";
import { isConfigPath, parseConfig } from "./config.ts";
import { resolveSecretRef } from "./secret-ref.ts";

describe("parseConfig", () => {
  test("parseConfig() accepts a full hydrovu config and keeps references unresolved", () => {
    const c = parseConfig(
      "kind: hydrovu\nclient_id: ${env:ID}\nclient_secret: ${env:SECRET}\ndestination: /hv\nstart: 2024-01-01T00:00:00Z\ndevices:\n  - {id: 7, name: lake, active: false}\n",
      "/etc/collect/a.yaml",
    );
    expect(c).toMatchObject({
      kind: "hydrovu",
      client_secret: "${env:SECRET}",
      devices: [{ id: 7, name: "lake", active: false }],
      file: "/etc/collect/a.yaml",
    });
  });

  test("parseConfig() refuses an inbox with both or neither of profile and sql", () => {
    expect(() => parseConfig("kind: inbox\nfrom: /in\ndestination: /x.series\n", "/f")).toThrow(/give exactly one of profile: and sql:/);
    expect(() => parseConfig("kind: inbox\nfrom: /in\ndestination: /x.series\nprofile: ysi\nsql: SELECT 1\n", "/f")).toThrow(/give exactly one/);
    expect(() => parseConfig("kind: inbox\nfrom: /in\ndestination: /x.series\nprofile: nope\n", "/f")).toThrow(
      /key "profile": expected one of laketech, ysi, usgs-rdb, insitu/,
    );
  });

  test("parseConfig() never repeats a literal secret", () => {
    const e = (() => {
      try {
        parseConfig("kind: hydrovu\nclient_id: abc123secret\nclient_secret: ${env:S}\ndestination: /d\ndevices: []\n", "/f");
      } catch (x) {
        return x as Error;
      }
    })()!;
    expect(e.message).toContain('key "client_id"');
    expect(e.message).not.toContain("abc123secret");
  });

  test("resolveSecretRef() names the unset variable", () => {
    expect(() => resolveSecretRef("/f", "client_secret", "${env:NOPE}", {})).toThrow("${env:NOPE}, which is not set");
    expect(resolveSecretRef("/f", "client_secret", "${env:YES}", { YES: "v" })).toBe("v");
  });

  test("isConfigPath() is true only for files under /etc/collect/", () => {
    expect(isConfigPath("/etc/collect/a.yaml")).toBe(true);
    expect(isConfigPath("/etc/collect/")).toBe(false);
    expect(isConfigPath("/etc/collector/a.yaml")).toBe(false);
  });
});
