import { expect, test } from "bun:test";
import { parseActions, serializeActions, type Action } from "./actions.ts";
import { CorruptLogError } from "./errors.ts";

test("parseActions() returns what serializeActions() wrote, one action a line", () => {
  const actions: Action[] = [
    { commitInfo: { timestamp: 5, operation: "WRITE", pond: { seq: 1 } } },
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    { add: { path: "a=1/f.parquet", partitionValues: { a: "1" }, size: 10, modificationTime: 1, dataChange: true, stats: '{"numRecords":1}' } },
    { remove: { path: "old.parquet", deletionTimestamp: 2, dataChange: true } },
  ];
  const bytes = serializeActions(actions);
  expect(new TextDecoder().decode(bytes).split("\n").filter(Boolean)).toHaveLength(4);
  expect(parseActions(bytes, "x.json")).toEqual(actions);
});

test("parseActions() skips blank lines and CRLF line ends, and keeps unknown actions", () => {
  const text = '{"commitInfo":{}}\r\n\n{"domainMetadata":{"domain":"d"}}\n';
  expect(parseActions(new TextEncoder().encode(text), "x.json")).toEqual([{ commitInfo: {} }, { domainMetadata: { domain: "d" } }]);
});

test("parseActions() throws CorruptLogError naming the file and line when a line is not JSON", () => {
  const bytes = new TextEncoder().encode('{"commitInfo":{}}\n{"add":{"path":\n');
  expect(() => parseActions(bytes, "_delta_log/00000000000000000003.json")).toThrow(CorruptLogError);
  try {
    parseActions(bytes, "_delta_log/00000000000000000003.json");
  } catch (e) {
    expect((e as Error).message).toContain("_delta_log/00000000000000000003.json");
    expect((e as Error).message).toContain("line 2");
  }
  expect(() => parseActions(new TextEncoder().encode("[1,2]"), "y.json")).toThrow("line 1 is not a JSON object");
});
