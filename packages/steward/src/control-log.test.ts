import { expect, test } from "bun:test";
import { ControlFileError } from "@pond/oplog";
import { readControl } from "./control-log.ts";
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
