import { expect, test } from "bun:test";
import type { DirEntry } from "@pond/tinyfs";
import { decodeDirectory, encodeDirectory } from "./directory-codec.ts";
import { CorruptLogError } from "./errors.ts";

const ID = (i: number) => `0190a0b0-0000-7000-8000-${String(i).padStart(12, "0")}`;

test("decodeDirectory() returns no entries when the directory was empty", () => {
  const bytes = encodeDirectory([]);
  expect(bytes.length).toBeGreaterThan(0);
  expect(decodeDirectory(bytes)).toEqual([]);
});

test("decodeDirectory() returns the entries in order when names are non-ASCII", () => {
  const entries: DirEntry[] = [
    { name: "données.csv", childNodeId: ID(1), entryType: "file:data", versionLastModified: 3 },
    { name: "日本語", childNodeId: ID(2), entryType: "directory", versionLastModified: 1 },
    { name: "emoji 😀 space", childNodeId: ID(3), entryType: "file:series", versionLastModified: 9_007_199_254_740_991 },
    { name: "link", childNodeId: ID(4), entryType: "symlink", versionLastModified: 1 },
    { name: "t", childNodeId: ID(5), entryType: "file:table", versionLastModified: 2 },
  ];
  expect(decodeDirectory(encodeDirectory(entries))).toEqual(entries);
});

test("decodeDirectory() round-trips 10,000 entries", () => {
  const entries: DirEntry[] = Array.from({ length: 10_000 }, (_, i) => ({
    name: `file-${i}.bin`,
    childNodeId: ID(i),
    entryType: i % 3 === 0 ? "directory" : "file:data",
    versionLastModified: i + 1,
  }));
  expect(decodeDirectory(encodeDirectory(entries))).toEqual(entries);
});

test("encodeDirectory() writes an Arrow IPC stream, not a file", () => {
  const bytes = encodeDirectory([{ name: "a", childNodeId: ID(1), entryType: "file:data", versionLastModified: 1 }]);
  // IPC files start with the magic "ARROW1"; streams start with a continuation marker.
  expect(new TextDecoder().decode(bytes.subarray(0, 6))).not.toBe("ARROW1");
  expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
});

test("decodeDirectory() throws CorruptLogError naming the source when the bytes are garbage", () => {
  for (const garbage of [new TextEncoder().encode("hello, this is not arrow"), new Uint8Array(64).fill(0xff), new Uint8Array(0)]) {
    let err: unknown;
    try {
      decodeDirectory(garbage, "directory 0190 version 2");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptLogError);
    expect((err as CorruptLogError).kind).toBe("integrity");
    expect((err as Error).message).toContain("directory 0190 version 2");
  }
});

test("decodeDirectory() throws CorruptLogError when the stream is truncated", () => {
  const bytes = encodeDirectory([{ name: "a", childNodeId: ID(1), entryType: "file:data", versionLastModified: 1 }]);
  expect(() => decodeDirectory(bytes.subarray(0, bytes.length - 30))).toThrow(CorruptLogError);
});
