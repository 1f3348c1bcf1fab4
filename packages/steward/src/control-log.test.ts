import { expect, test } from "bun:test";
import { ControlFileError } from "@pond/oplog";
import { readFileSync } from "node:fs";
import { appendControl, readControl } from "./control-log.ts";
import { tempFolder } from "../../../test/support/kit.ts";

const begin = JSON.stringify({ type: "begin", txnId: "t1", baseSeq: 0, command: ["pond", "mkdir", "/a"], user: "u", startedAt: 1, pid: 1 });

test("readControl() skips a torn last line (a crash mid-append) and reads the rest", () => {
  using t = tempFolder({ "log.jsonl": `${begin}\n{"type":"comm` });
  expect(readControl(t.path("log.jsonl")).map((r) => r.type)).toEqual(["begin"]);
});

test("readControl() names a damaged line before the last as ControlFileError with the file and the fix", () => {
  using t = tempFolder({ "log.jsonl": `${begin}\nnot json at all\n${begin}\n` });
  const path = t.path("log.jsonl");
  let e: unknown;
  try {
    readControl(path);
  } catch (err) {
    e = err;
  }
  expect(e).toBeInstanceOf(ControlFileError);
  expect([(e as ControlFileError).code, (e as ControlFileError).kind]).toEqual(["control_file_damaged", "integrity"]);
  expect((e as Error).message).toContain(`"${path}" is damaged: line 2 is not JSON`);
  expect((e as ControlFileError).hint).toContain("restore");
});

test("appendControl() after a torn last line cuts it off, so the new record is whole and the log stays readable", () => {
  using t = tempFolder({ "log.jsonl": `${begin}\n{"type":"comm` });
  const path = t.path("log.jsonl");
  appendControl(path, { type: "begin", txnId: "t2", baseSeq: 1, command: ["pond"], user: "u", startedAt: 2, pid: 1 });
  appendControl(path, { type: "begin", txnId: "t3", baseSeq: 2, command: ["pond"], user: "u", startedAt: 3, pid: 1 });
  expect(readControl(path).map((r) => r.txnId)).toEqual(["t1", "t2", "t3"]);
  const line = (txnId: string, baseSeq: number, startedAt: number) =>
    JSON.stringify({ type: "begin", txnId, baseSeq, command: ["pond"], user: "u", startedAt, pid: 1 });
  expect(readFileSync(path, "utf8")).toBe(`${begin}\n${line("t2", 1, 2)}\n${line("t3", 2, 3)}\n`);
  // A torn line longer than one read block, and a file that is only a torn line.
  using u = tempFolder({ "a.jsonl": `${begin}\n${"x".repeat(10_000)}`, "b.jsonl": "torn" });
  for (const f of ["a.jsonl", "b.jsonl"]) appendControl(u.path(f), { type: "begin", txnId: "t9", baseSeq: 1, command: [], user: "u", startedAt: 1, pid: 1 });
  expect(readControl(u.path("a.jsonl")).map((r) => r.txnId)).toEqual(["t1", "t9"]);
  expect(readControl(u.path("b.jsonl")).map((r) => r.txnId)).toEqual(["t9"]);
});
