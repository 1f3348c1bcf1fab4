import { describe, expect, test } from "bun:test";
import { createLogger } from "./log.ts";
import { PondError, EXIT_CODES } from "./errors.ts";

describe("createLogger()", () => {
  test("drops events below the level and keeps the rest", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "text", write: (l) => lines.push(l) });
    log.debug("hidden");
    log.info("hidden too");
    log.warn("shown", { path: "/a" });
    log.error("also shown");
    expect(lines).toEqual(["pond warn: shown path=/a", "pond error: also shown"]);
  });

  test("json format prints one object a line with bigint as string", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l), now: () => new Date(0) });
    log.debug("commit", { version: 3n });
    expect(JSON.parse(lines[0]!)).toEqual({ time: "1970-01-01T00:00:00.000Z", level: "debug", event: "commit", version: "3" });
  });
});

describe("PondError", () => {
  test("carries code, kind, data and hint", () => {
    const e = new PondError("not_found", 'No such path "/x"', { data: { path: "/x" }, hint: "run pond list" });
    expect([e.code, e.kind, e.data.path, e.hint, EXIT_CODES[e.kind]]).toEqual(["not_found", "user", "/x", "run pond list", 1]);
  });
});
