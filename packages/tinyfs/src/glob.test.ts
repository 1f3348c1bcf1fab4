import { describe, expect, test } from "bun:test";
import { InvalidPathError } from "./errors.ts";
import { compileGlob, isGlob } from "./glob.ts";

// [pattern, path, matches without dot, matches with dot]
type Row = [string, string, boolean, boolean?];

const MATCH_TABLE: Row[] = [
  // literal
  ["/a", "/a", true],
  ["/a", "/b", false],
  ["/a", "/a/b", false],
  ["/a/b", "/a/b", true],
  ["/a//b/", "/a/b", true],
  ["/a/./b", "/a/b", true],
  ["/a/x/../b", "/a/b", true],
  // *
  ["/*", "/a", true],
  ["/*", "/a/b", false],
  ["/*", "/", false],
  ["/*.csv", "/data.csv", true],
  ["/*.csv", "/data.csv.bak", false],
  ["/*.csv", "/.csv", false, true],
  ["/d*a", "/da", true],
  ["/d*a", "/dxyza", true],
  ["/d*a", "/dxyz", false],
  ["/a/*/c", "/a/b/c", true],
  ["/a/*/c", "/a/b/x/c", false],
  ["/a*b*c", "/aXbYc", true],
  ["/a*b*c", "/abc", true],
  ["/a*b*c", "/acb", false],
  ["/*", "/with space", true],
  ["/*", "/ünï", true],
  // ?
  ["/?", "/a", true],
  ["/?", "/ab", false],
  ["/?", "/é", true],
  ["/?", "/😀", true],
  ["/a?c", "/abc", true],
  ["/a?c", "/a/c", false],
  ["/?x", "/.x", false, true],
  // classes
  ["/[abc]", "/b", true],
  ["/[abc]", "/d", false],
  ["/[a-c]x", "/bx", true],
  ["/[a-c]x", "/dx", false],
  ["/[!a]", "/b", true],
  ["/[!a]", "/a", false],
  ["/[^a]", "/a", false],
  ["/[^a]", "/z", true],
  ["/[]]", "/]", true],
  ["/[!]]", "/]", false],
  ["/[!]]", "/x", true],
  ["/[a-]", "/-", true],
  ["/[\\]]", "/]", true],
  ["/[a\\-z]", "/-", true],
  ["/[a\\-z]", "/b", false],
  ["/[0-9][0-9]", "/42", true],
  ["/[0-9][0-9]", "/4x", false],
  ["/[z-a]", "/m", false],
  ["/[.]x", "/.x", false, true],
  ["/[", "/[", true],
  ["/a[b", "/a[b", true],
  ["/[é-ë]", "/ê", true],
  // braces
  ["/{a,b}", "/a", true],
  ["/{a,b}", "/b", true],
  ["/{a,b}", "/c", false],
  ["/x.{csv,parquet}", "/x.parquet", true],
  ["/{a,b*}/c", "/bzz/c", true],
  ["/{a,b*}/c", "/azz/c", false],
  ["/{a/b,c}", "/a/b", true],
  ["/{a/b,c}", "/c", true],
  ["/{a/b,c}", "/a", false],
  ["/{a,{b,c}d}", "/cd", true],
  ["/{a,{b,c}d}", "/c", false],
  ["/{a}", "/{a}", true],
  ["/{a}", "/a", false],
  ["/{a,", "/{a,", true],
  ["/{,x}y", "/y", true],
  ["/{,x}y", "/xy", true],
  ["/{a\\,b,c}", "/a,b", true],
  ["/{[ab],c}", "/b", true],
  ["/[{]", "/{", true],
  ["/{.a,b}", "/.a", true],
  // escapes
  ["/\\*", "/*", true],
  ["/\\*", "/a", false],
  ["/a\\?", "/a?", true],
  ["/a\\?", "/ab", false],
  ["/\\[a]", "/[a]", true],
  ["/\\{a,b}", "/{a,b}", true],
  ["/\\{a,b}", "/a", false],
  ["/a\\\\b", "/a\\b", true],
  ["/a\\/b", "/a/b", true],
  // **
  ["/**", "/a", true],
  ["/**", "/a/b/c", true],
  ["/**", "/", true],
  ["/a/**", "/a", true],
  ["/a/**", "/a/b", true],
  ["/a/**", "/a/b/c", true],
  ["/a/**", "/b/c", false],
  ["/a/**/c", "/a/c", true],
  ["/a/**/c", "/a/b/c", true],
  ["/a/**/c", "/a/b/x/c", true],
  ["/a/**/c", "/a/b/x/d", false],
  ["/**/*.csv", "/x.csv", true],
  ["/**/*.csv", "/a/b/x.csv", true],
  ["/**/*.csv", "/a/b/x.txt", false],
  ["/a/**/**/c", "/a/c", true],
  ["/a/**/b/**/c", "/a/x/b/y/z/c", true],
  ["/a/**/b/**/c", "/a/x/y/z/c", false],
  ["/a**b", "/axxb", true],
  ["/a**b", "/ax/xb", false],
  ["/**x", "/ax", true],
  ["/**x", "/a/x", false],
  // dot-names
  ["/*", "/.hidden", false, true],
  ["/.*", "/.hidden", true],
  ["/.h*", "/.hidden", true],
  ["/**", "/.hidden", false, true],
  ["/**", "/.git/config", false, true],
  ["/**", "/a/.b/c", false, true],
  ["/a/**/c", "/a/.x/c", false, true],
  ["/.git/**", "/.git/config", true],
  ["/.git/*", "/.git/config", true],
  ["/**/.env", "/a/.env", true],
  ["/*/x", "/.d/x", false, true],
];

describe("Glob.match()", () => {
  for (const [pattern, path, plain, withDot] of MATCH_TABLE) {
    const dotExpected = withDot ?? plain;
    test(`match() ${plain ? "accepts" : "rejects"} ${path} for ${pattern}${dotExpected !== plain ? ` (dot: ${dotExpected})` : ""}`, () => {
      expect(compileGlob(pattern).match(path)).toBe(plain);
      expect(compileGlob(pattern, { dot: true }).match(path)).toBe(dotExpected);
    });
  }

  test("match() resolves a relative pattern against cwd", () => {
    const g = compileGlob("*.csv", { cwd: "/data" });
    expect(g.match("/data/x.csv")).toBe(true);
    expect(g.match("/x.csv")).toBe(false);
    expect(compileGlob("../*", { cwd: "/data/sub" }).match("/data/x")).toBe(true);
  });

  test("match() of a name with a newline works with * and ?", () => {
    expect(compileGlob("/a*").match("/a\nb")).toBe(true);
    expect(compileGlob("/a?b").match("/a\nb")).toBe(true);
  });

  test("matchNames() takes the names of the path", () => {
    const g = compileGlob("/a/*");
    expect(g.matchNames(["a", "b"])).toBe(true);
    expect(g.matchNames(["a"])).toBe(false);
  });
});

describe("Glob.literalPrefix", () => {
  const cases: Array<[string, string[]]> = [
    ["/", []],
    ["/**", []],
    ["/a/b/*.csv", ["a", "b"]],
    ["/a/b", ["a", "b"]],
    ["/a/**/c", ["a"]],
    ["/a/b?/c", ["a"]],
    ["/{a,b}/c", []],
    ["/a{/b,/c}/d", ["a"]],
    ["/x/{a,b}/c", ["x"]],
    ["/a/{b,b}/c", ["a", "b", "c"]],
    ["/a/\\*/c*", ["a", "*"]],
    ["/a/[b]/c", ["a"]],
    ["/a/{b}/c", ["a", "{b}", "c"]],
    ["/a/../b/*", ["b"]],
  ];
  for (const [pattern, prefix] of cases) {
    test(`literalPrefix of ${pattern} is ${JSON.stringify(prefix)}`, () => {
      expect(compileGlob(pattern).literalPrefix).toEqual(prefix);
    });
  }

  test("literalPrefix includes cwd for a relative pattern", () => {
    expect(compileGlob("sub/*", { cwd: "/d" }).literalPrefix).toEqual(["d", "sub"]);
  });
});

describe("Glob.couldMatchBelow()", () => {
  const cases: Array<[string, string[], boolean, boolean?]> = [
    ["/a/*/c", [], true],
    ["/a/*/c", ["a"], true],
    ["/a/*/c", ["a", "b"], true],
    ["/a/*/c", ["a", "b", "c"], false],
    ["/a/*/c", ["b"], false],
    ["/a/*", ["a"], true],
    ["/a/*", ["a", "x"], false],
    ["/a/**", ["a", "x", "y"], true],
    ["/**/x", ["p", "q"], true],
    ["/**/x", [".git"], false, true],
    ["/*.csv", [], true],
    ["/*.csv", ["d"], false],
    ["/{a,b}/x", ["b"], true],
    ["/{a,b}/x", ["c"], false],
  ];
  for (const [pattern, names, plain, withDot] of cases) {
    test(`couldMatchBelow() is ${plain} under /${names.join("/")} for ${pattern}`, () => {
      expect(compileGlob(pattern).couldMatchBelow(names)).toBe(plain);
      expect(compileGlob(pattern, { dot: true }).couldMatchBelow(names)).toBe(withDot ?? plain);
    });
  }
});

describe("isGlob() and hasMagic", () => {
  const cases: Array<[string, boolean]> = [
    ["/a/b", false],
    ["a", false],
    ["/a/*", true],
    ["/a?", true],
    ["/[ab]", true],
    ["/{a,b}", true],
    ["/**", true],
    ["/\\*", false],
    ["/\\{a,b}", false],
    ["/{a}", false],
    ["/[", false],
    ["/a[", false],
    ["/data[1].csv", true],
    ["/data\\[1].csv", false],
  ];
  for (const [s, expected] of cases) {
    test(`isGlob() is ${expected} for ${s}`, () => {
      expect(isGlob(s)).toBe(expected);
      expect(compileGlob(s).hasMagic).toBe(expected);
    });
  }
});

describe("compileGlob()", () => {
  test("compileGlob() records a trailing slash", () => {
    expect(compileGlob("/d*/").trailingSlash).toBe(true);
    expect(compileGlob("/d*").trailingSlash).toBe(false);
  });

  test("compileGlob() throws InvalidPathError when the pattern escapes the pond", () => {
    expect(() => compileGlob("/../*")).toThrow(InvalidPathError);
    expect(() => compileGlob("/../*")).toThrow("escapes the pond");
  });

  test("compileGlob() throws InvalidPathError when a literal name contains NUL", () => {
    expect(() => compileGlob("/a\0b/*")).toThrow(InvalidPathError);
  });

  test("compileGlob() throws InvalidPathError when braces explode", () => {
    expect(() => compileGlob("/" + "{a,b,c,d,e,f,g,h,i,j}".repeat(5))).toThrow("alternatives");
  });

  test("compileGlob() throws InvalidPathError when the pattern is empty", () => {
    expect(() => compileGlob("")).toThrow(InvalidPathError);
  });
});
