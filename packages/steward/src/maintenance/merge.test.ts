import { describe, expect, test } from "bun:test";
import type { VersionInfo } from "@pond/tinyfs";
import { planRuns, unionSchema, type Segment, type SegmentSchema } from "./merge.ts";

const schema: SegmentSchema = { timestampColumn: "timestamp", types: { timestamp: "TIMESTAMP", v: "DOUBLE" } };
const seg = (weight: number, s: SegmentSchema = schema): Segment => ({ versions: [] as VersionInfo[], weight, schema: s });

describe("planRuns()", () => {
  test("merges every small file into one when nothing is large", () => {
    expect(
      planRuns(
        [1, 1, 1, 1, 1].map((w) => seg(w)),
        1000,
        1000,
      ),
    ).toEqual([{ from: 0, to: 4 }]);
  });

  test("does not rewrite a file for less than doubling it: a collector's files grow as a binary counter", () => {
    // A merged file of 100 and 8 new small ones: only the small ones merge.
    expect(planRuns([seg(100), ...Array.from({ length: 8 }, () => seg(1))], 1000, 1000)).toEqual([{ from: 1, to: 8 }]);
    // 100, 16, 8 and 8 small: the 16 takes the 8 and the small ones (32, no part over half); the 100 stays.
    expect(planRuns([seg(100), seg(16), seg(8), ...Array.from({ length: 8 }, () => seg(1))], 1000, 1000)).toEqual([{ from: 1, to: 10 }]);
    // Simulated: 64 appends at a time, merged each time; the files stay few and each byte is rewritten a few times.
    let segs: number[] = [];
    let rewritten = 0;
    for (let round = 0; round < 200; round++) {
      segs.push(...Array.from({ length: 64 }, () => 1));
      const runs = planRuns(
        segs.map((w) => seg(w)),
        1e9,
        1e9,
      );
      const next: number[] = [];
      let i = 0;
      for (const r of runs) {
        next.push(...segs.slice(i, r.from));
        const w = segs.slice(r.from, r.to + 1).reduce((a, b) => a + b, 0);
        rewritten += w;
        next.push(w);
        i = r.to + 1;
      }
      next.push(...segs.slice(i));
      segs = next;
    }
    expect(segs.reduce((a, b) => a + b, 0)).toBe(200 * 64);
    expect(segs.length).toBeLessThanOrEqual(8);
    expect(rewritten / (200 * 64)).toBeLessThan(Math.log2(200) + 2);
  });

  test("stops at the target size, at the input cap, and at versions whose columns disagree or were not recorded", () => {
    expect(
      planRuns(
        [4, 4, 4, 4].map((w) => seg(w)),
        8,
        1000,
      ),
    ).toEqual([
      { from: 0, to: 1 },
      { from: 2, to: 3 },
    ]);
    expect(
      planRuns(
        [1, 1, 1, 1, 1].map((w) => seg(w)),
        1000,
        3,
      ),
    ).toEqual([{ from: 0, to: 2 }]);
    const other: SegmentSchema = { timestampColumn: "timestamp", types: { timestamp: "TIMESTAMP", v: "VARCHAR" } };
    expect(planRuns([seg(1), seg(1), seg(1, other), seg(1, other)], 1000, 1000)).toEqual([
      { from: 0, to: 1 },
      { from: 2, to: 3 },
    ]);
    const unrecorded: Segment = { versions: [], weight: 1 };
    expect(planRuns([seg(1), unrecorded, seg(1), seg(1)], 1000, 1000)).toEqual([{ from: 2, to: 3 }]);
    // A new column is no conflict: the merged file has the union.
    const wider: SegmentSchema = { timestampColumn: "timestamp", types: { ...schema.types, w: "BIGINT" } };
    expect(unionSchema(schema, wider)).toEqual(wider);
    expect(planRuns([seg(1), seg(1, wider)], 1000, 1000)).toEqual([{ from: 0, to: 1 }]);
    expect(unionSchema(schema, { ...schema, timestampColumn: "ts" })).toBeUndefined();
  });
});
