import { expect, test } from "bun:test";
import { checkpointKey, commitKey, parseLogFileName } from "./log-file-name.ts";

test("parseLogFileName() reads commits, checkpoints and _last_checkpoint", () => {
  expect(parseLogFileName("_delta_log/00000000000000000007.json")).toEqual({ kind: "commit", version: 7, key: "_delta_log/00000000000000000007.json" });
  expect(parseLogFileName("_delta_log/00000000000000000010.checkpoint.parquet")).toEqual({
    kind: "checkpoint",
    version: 10,
    key: "_delta_log/00000000000000000010.checkpoint.parquet",
  });
  expect(parseLogFileName("_delta_log/00000000000000000010.checkpoint.0000000002.0000000003.parquet")).toEqual({
    kind: "checkpoint",
    version: 10,
    key: "_delta_log/00000000000000000010.checkpoint.0000000002.0000000003.parquet",
    parts: { index: 2, total: 3 },
  });
  expect(parseLogFileName("_delta_log/_last_checkpoint")).toEqual({ kind: "last_checkpoint", key: "_delta_log/_last_checkpoint" });
});

test("parseLogFileName() returns null when the name is outside the scheme", () => {
  for (const key of [
    "_delta_log/.tmp/00000000000000000005.json",
    "_delta_log/00000000000000000005.crc",
    "_delta_log/0000000000000000005.json",
    "_delta_log/00000000000000000005.json.tmp",
    "_delta_log/00000000000000000001.00000000000000000009.compacted.json",
    "_delta_log/00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json",
    "_delta_log/00000000000000000010.checkpoint.0000000004.0000000003.parquet",
    "_delta_log/.pond-put-0123456789abcdef.tmp",
    "00000000000000000005.json",
    "other/_delta_log/00000000000000000005.json",
  ]) {
    expect(parseLogFileName(key)).toBeNull();
  }
});

test("commitKey() and checkpointKey() pad the version to 20 digits", () => {
  expect(commitKey(0)).toBe("_delta_log/00000000000000000000.json");
  expect(checkpointKey(250)).toBe("_delta_log/00000000000000000250.checkpoint.parquet");
  expect(parseLogFileName(commitKey(123456789))?.kind).toBe("commit");
  expect(() => commitKey(-1)).toThrow(RangeError);
  expect(() => commitKey(1.5)).toThrow(RangeError);
});
