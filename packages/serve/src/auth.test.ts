import { describe, expect, test } from "bun:test";
import { checkBearer, isLoopback, parseListen, resolveToken } from "./auth.ts";
import { BadListenError, BadTokenError, UnauthorizedError } from "./errors.ts";

describe("auth", () => {
  test("parseListen() reads HOST:PORT and [v6]:PORT, port 0 included", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080 });
    expect(parseListen("[::1]:0")).toEqual({ hostname: "::1", port: 0 });
    expect(parseListen("localhost:9")).toEqual({ hostname: "localhost", port: 9 });
    for (const bad of ["8080", "127.0.0.1", "host:99999", "::1:80", "a:b"]) expect(() => parseListen(bad)).toThrow(BadListenError);
  });

  test("isLoopback() is true only for 127/8, ::1 and localhost", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "LOCALHOST"].map(isLoopback)).toEqual([true, true, true, true]);
    expect(["0.0.0.0", "192.168.1.2", "::", "128.0.0.1"].map(isLoopback)).toEqual([false, false, false, false]);
  });

  test("resolveToken() needs a token off loopback, refuses literals and unset variables, and reads the variable", () => {
    const lo = { hostname: "127.0.0.1", port: 0 };
    const any = { hostname: "0.0.0.0", port: 0 };
    expect(resolveToken(lo, undefined, {})).toBeUndefined();
    expect(() => resolveToken(any, undefined, {})).toThrow(BadTokenError);
    expect(() => resolveToken(any, "s3cret", {})).toThrow(/literal token is refused/);
    try {
      resolveToken(any, "s3cret", {});
    } catch (e) {
      expect(String((e as Error).message)).not.toContain("s3cret");
    }
    expect(() => resolveToken(any, "${env:POND_TOKEN}", {})).toThrow(/POND_TOKEN.*not set/);
    expect(resolveToken(any, "${env:POND_TOKEN}", { POND_TOKEN: "abc" })).toBe("abc");
    expect(resolveToken(lo, "${env:T}", { T: "x" })).toBe("x");
  });

  test("checkBearer() accepts the exact token and refuses a missing, wrong or longer one", () => {
    expect(() => checkBearer("Bearer abc", "abc")).not.toThrow();
    expect(() => checkBearer("bearer   abc", "abc")).not.toThrow();
    const why = (h: string | null) => {
      try {
        checkBearer(h, "abc");
        return "ok";
      } catch (e) {
        expect(e).toBeInstanceOf(UnauthorizedError);
        return (e as UnauthorizedError).data.why;
      }
    };
    expect([why(null), why("Basic abc"), why("Bearer abd"), why("Bearer abcd"), why("Bearer ab")]).toEqual(["missing", "missing", "wrong", "wrong", "wrong"]);
  });
});
