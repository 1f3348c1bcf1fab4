import { describe, expect, test } from "bun:test";
import { InvalidPathError } from "./errors.ts";
import {
  basename,
  childPath,
  comparePaths,
  dirname,
  hasTrailingSlash,
  isAbsolutePath,
  joinPath,
  normalizePath,
  parsePath,
  splitPath,
  validateName,
} from "./path.ts";

function invalid(fn: () => unknown): InvalidPathError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidPathError) return e;
    throw e;
  }
  throw new Error("expected InvalidPathError");
}

describe("normalizePath()", () => {
  const cases: Array<[string, string, string]> = [
    // [input, cwd, expected]
    ["/", "/", "/"],
    ["/a", "/", "/a"],
    ["/a/", "/", "/a"],
    ["//a///b//", "/", "/a/b"],
    ["/a/./b/.", "/", "/a/b"],
    ["/a/b/..", "/", "/a"],
    ["/a/b/../../c", "/", "/c"],
    ["/..a/b..", "/", "/..a/b.."],
    ["/...", "/", "/..."],
    ["a", "/", "/a"],
    ["a/b", "/x/y", "/x/y/a/b"],
    ["../b", "/x/y", "/x/b"],
    [".", "/x/y", "/x/y"],
    ["./", "/x", "/x"],
    ["..", "/x", "/"],
    ["/abs", "/x/y", "/abs"],
    ["a", "//x//", "/x/a"],
    ["/with space/é ü ß/日本", "/", "/with space/é ü ß/日本"],
    ["/back\\slash", "/", "/back\\slash"],
  ];
  for (const [input, cwd, expected] of cases) {
    test(`normalizePath() maps ${JSON.stringify(input)} in ${cwd} to ${expected}`, () => {
      expect(normalizePath(input, cwd)).toBe(expected);
    });
  }

  test("normalizePath() throws InvalidPathError saying the path escapes the pond when '..' goes above /", () => {
    for (const [p, cwd] of [
      ["/..", "/"],
      ["/a/../..", "/"],
      ["../../x", "/a"],
      ["..", "/"],
    ] as const) {
      const e = invalid(() => normalizePath(p, cwd));
      expect(e.code).toBe("invalid_path");
      expect(e.message).toContain("escapes the pond");
      expect(e.message).toContain(p);
    }
  });

  test("normalizePath() throws InvalidPathError when a name contains NUL", () => {
    const e = invalid(() => normalizePath("/a/b\0c"));
    expect(e.message).toContain("NUL");
  });

  test("normalizePath() accepts a 255-byte name and rejects a 256-byte one", () => {
    expect(normalizePath("/" + "a".repeat(255))).toBe("/" + "a".repeat(255));
    invalid(() => normalizePath("/" + "a".repeat(256)));
    // "é" is 2 UTF-8 bytes: 127 of them fit, 128 do not.
    expect(normalizePath("/" + "é".repeat(127))).toBe("/" + "é".repeat(127));
    const e = invalid(() => normalizePath("/" + "é".repeat(128)));
    expect(e.message).toContain("255 UTF-8 bytes");
  });

  test("normalizePath() throws InvalidPathError when the path is empty", () => {
    expect(invalid(() => normalizePath("")).message).toContain("empty");
  });

  test("normalizePath() throws InvalidPathError when cwd is relative", () => {
    invalid(() => normalizePath("a", "rel"));
  });
});

describe("parsePath()", () => {
  test("parsePath() keeps whether the user wrote a trailing slash", () => {
    expect(parsePath("/dir/")).toEqual({ names: ["dir"], trailingSlash: true, absolute: "/dir" });
    expect(parsePath("/dir")).toEqual({ names: ["dir"], trailingSlash: false, absolute: "/dir" });
    expect(parsePath("/dir//")).toEqual({ names: ["dir"], trailingSlash: true, absolute: "/dir" });
    expect(parsePath("sub/", "/d")).toEqual({ names: ["d", "sub"], trailingSlash: true, absolute: "/d/sub" });
  });

  test("parsePath() reports / as the root with a trailing slash", () => {
    expect(parsePath("/")).toEqual({ names: [], trailingSlash: true, absolute: "/" });
  });
});

describe("path helpers", () => {
  test("splitPath() returns the names from the root", () => {
    expect(splitPath("/")).toEqual([]);
    expect(splitPath("/a//b/")).toEqual(["a", "b"]);
    expect(splitPath("c", "/a/b")).toEqual(["a", "b", "c"]);
  });

  test("joinPath() joins and normalizes its parts", () => {
    expect(joinPath("/a", "b/c", "..")).toBe("/a/b");
    expect(joinPath("/", "x")).toBe("/x");
    expect(joinPath("a", "b")).toBe("/a/b");
    expect(joinPath()).toBe("/");
    expect(joinPath("/a/", "/b")).toBe("/a/b");
  });

  test("childPath() does not double the root slash", () => {
    expect(childPath("/", "a")).toBe("/a");
    expect(childPath("/a", "b")).toBe("/a/b");
  });

  test("basename() and dirname() split off the last name", () => {
    expect([basename("/a/b/c"), dirname("/a/b/c")]).toEqual(["c", "/a/b"]);
    expect([basename("/a"), dirname("/a")]).toEqual(["a", "/"]);
    expect([basename("/"), dirname("/")]).toEqual(["", "/"]);
    expect([basename("/a/b/"), dirname("/a/b/")]).toEqual(["b", "/a"]);
  });

  test("hasTrailingSlash() and isAbsolutePath() look at what was written", () => {
    expect([hasTrailingSlash("/a/"), hasTrailingSlash("/a"), hasTrailingSlash("/")]).toEqual([true, false, true]);
    expect([isAbsolutePath("/a"), isAbsolutePath("a")]).toEqual([true, false]);
  });

  test("validateName() rejects names that cannot be stored", () => {
    for (const bad of ["", ".", "..", "a/b", "a\0"]) invalid(() => validateName(bad));
    expect(() => validateName("ok name.csv")).not.toThrow();
  });

  test("comparePaths() orders by plain string order", () => {
    expect(["/b", "/a/x", "/a", "/a.csv"].sort(comparePaths)).toEqual(["/a", "/a.csv", "/a/x", "/b"]);
  });
});
