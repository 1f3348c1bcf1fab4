import { describe, expect, test } from "bun:test";
import { concatBytes, sha256Hex } from "./bytes.ts";

describe("concatBytes()", () => {
  test("joins chunks in order, including empty ones", () => {
    expect(concatBytes([Uint8Array.of(1, 2), new Uint8Array(), Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3));
    expect(concatBytes([])).toEqual(new Uint8Array());
  });
});

describe("sha256Hex()", () => {
  test("hashes bytes to lowercase hex", () => {
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
