import { expect, test } from "bun:test";
import { CorruptLogError, UnsupportedFeatureError } from "./errors.ts";
import { checkReadable } from "./protocol-support.ts";

const URL = "file:///t";

function refusal(p: Parameters<typeof checkReadable>[0]): UnsupportedFeatureError {
  try {
    checkReadable(p, URL, "x.json");
  } catch (e) {
    if (e instanceof UnsupportedFeatureError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

test("checkReadable() accepts reader versions 1 and 3 when no unsupported feature is listed", () => {
  checkReadable({ minReaderVersion: 1, minWriterVersion: 2 }, URL, "x.json");
  checkReadable({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: ["appendOnly"] }, URL, "x.json");
  checkReadable({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["vacuumProtocolCheck"] }, URL, "x.json");
});

test("checkReadable() refuses deletionVectors and names it", () => {
  const e = refusal({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["deletionVectors"] });
  expect(e.code).toBe("unsupported_feature");
  expect(e.message).toBe(`Cannot read Delta table at ${URL}: reader feature "deletionVectors" is not supported`);
  expect(e.data.feature).toBe("deletionVectors");
});

test("checkReadable() refuses column mapping when reader version is 2 or the feature is listed", () => {
  expect(refusal({ minReaderVersion: 2, minWriterVersion: 5 }).data.feature).toBe("columnMapping");
  expect(refusal({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["columnMapping"] }).data.feature).toBe("columnMapping");
});

test("checkReadable() refuses v2Checkpoint, timestampNtz and reader versions above 3", () => {
  expect(refusal({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["v2Checkpoint"] }).data.feature).toBe("v2Checkpoint");
  expect(refusal({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["timestampNtz"] }).data.feature).toBe("timestampNtz");
  expect(refusal({ minReaderVersion: 4, minWriterVersion: 7 }).message).toContain("reader version 4");
});

test("checkReadable() throws CorruptLogError when minReaderVersion is not a positive integer", () => {
  expect(() => checkReadable({ minReaderVersion: 0, minWriterVersion: 2 }, URL, "x.json")).toThrow(CorruptLogError);
});
