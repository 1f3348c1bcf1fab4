import { describe, expect, test } from "bun:test";
import { autoResolutions, CHUNK_ROWS, decodeChunk, encodeChunk, MAX_POINTS, medianStepMs, writeChunks } from "./site-data.ts";

describe("chunk encoding", () => {
  test("encodeChunk() round-trips times exactly and values to 7 significant digits, nulls kept", () => {
    const t = [Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1, 0, 1), Date.UTC(2025, 0, 1, 0, 3), Date.UTC(2025, 0, 1, 1)];
    const v = [12.345678912, null, -0.000123456789, 1e9 + 0.5];
    const back = decodeChunk(encodeChunk({ t, fields: [v] }, 0, 4));
    expect(back.t).toEqual(t);
    expect(back.fields).toEqual([[12.34568, null, -0.0001234568, 1000000000]]);
  });

  test("encodeChunk() writes whole-second times as second deltas (3 bytes a minutely row), others in ms", () => {
    const minutely = Array.from({ length: 100 }, (_, i) => 1735689600000 + i * 60_000);
    const json = encodeChunk({ t: minutely, fields: [] }, 0, 100);
    expect(json).toStartWith('{"u":1000,"t":[1735689600,60,60,');
    const ms = [1000, 1500, 2250];
    expect(decodeChunk(encodeChunk({ t: ms, fields: [] }, 0, 3)).t).toEqual(ms);
    expect(encodeChunk({ t: ms, fields: [] }, 0, 3)).toStartWith('{"u":1,"t":[1000,500,750]');
  });

  test("writeChunks() cuts a level into chunks of CHUNK_ROWS with their time ranges", () => {
    const n = CHUNK_ROWS * 2 + 17;
    const t = Array.from({ length: n }, (_, i) => i * 1000);
    const files: string[] = [];
    const chunks = writeChunks({ t, fields: [t.map((x) => x / 1000)] }, "s/raw", (i, text) => files.push(`${i}:${text}`));
    expect(chunks.map((c) => [c.t0, c.t1, c.rows])).toEqual([
      [0, (CHUNK_ROWS - 1) * 1000, CHUNK_ROWS],
      [CHUNK_ROWS * 1000, (2 * CHUNK_ROWS - 1) * 1000, CHUNK_ROWS],
      [2 * CHUNK_ROWS * 1000, (n - 1) * 1000, 17],
    ]);
    expect(files[2]).toStartWith('2:pondChunk("s/raw/2",{"u":1000,"t":[4000,1,');
    expect(chunks[0]!.bytes).toBe(Buffer.byteLength(files[0]!.slice(2)));
  });

  test("medianStepMs() is the typical step, not thrown by a gap", () => {
    const t = [0, 60, 120, 180, 100_000, 100_060, 100_120];
    expect(medianStepMs(t)).toBe(60);
    expect(medianStepMs([5])).toBe(0);
  });
});

describe("autoResolutions", () => {
  test("autoResolutions() steps up at least 8x from the raw step until the span fits MAX_POINTS", () => {
    const year = 365 * 86_400_000;
    expect(autoResolutions(525_600, year, 60_000).map(([l]) => l)).toEqual(["15m", "6h"]);
    expect(autoResolutions(8759, year, 3_600_000).map(([l]) => l)).toEqual(["1d"]);
    expect(autoResolutions(MAX_POINTS, year, 60_000)).toEqual([]);
    for (const [rows, span, step] of [
      [525_600, year, 60_000],
      [10_000_000, 10 * year, 30_000],
    ]) {
      const levels = autoResolutions(rows!, span!, step!);
      expect(span! / levels[levels.length - 1]![1]).toBeLessThanOrEqual(MAX_POINTS);
    }
  });
});
