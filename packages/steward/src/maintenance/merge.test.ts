import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WD } from "@pond/tinyfs";
import { TLogView } from "@pond/tlogfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { newPond, tempKit } from "../backup-test-kit.ts";
import { merge, planRuns, planSources, segmentsOf, segmentsOfSummary, unionSchema, type Segment, type SegmentSchema } from "./merge.ts";
import { setConfig } from "./pond-config.ts";

const schema: SegmentSchema = { timestampColumn: "timestamp", types: { timestamp: "TIMESTAMP", v: "DOUBLE" } };
const seg = (weight: number, s: SegmentSchema = schema): Segment => ({ first: 0, last: 0, weight, stored: { sha256: "", size: 0 }, schema: s, columns: [] });

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
    const unrecorded: Segment = { first: 0, last: 0, weight: 1, stored: { sha256: "", size: 0 }, columns: [] };
    expect(planRuns([seg(1), unrecorded, seg(1), seg(1)], 1000, 1000)).toEqual([{ from: 2, to: 3 }]);
    // A new column is no conflict: the merged file has the union.
    const wider: SegmentSchema = { timestampColumn: "timestamp", types: { ...schema.types, w: "BIGINT" } };
    expect(unionSchema(schema, wider)).toEqual(wider);
    expect(planRuns([seg(1), seg(1, wider)], 1000, 1000)).toEqual([{ from: 0, to: 1 }]);
    expect(unionSchema(schema, { ...schema, timestampColumn: "ts" })).toBeUndefined();
  });
});

describe("merge() plans from series summaries", () => {
  test("segmentsOfSummary() equals segmentsOf() over every version, and automatic maintenance plans without reading a version", async () => {
    const kit = tempKit();
    const duck = await openDuckDB();
    const versionsRead = { n: 0 };
    const realVersions = TLogView.prototype.versions;
    try {
      const pond = await newPond(kit.dir);
      setConfig(pond.paths.control, "maintain.auto-merge-after", "6");
      const T0 = Date.UTC(2025, 0, 1);
      // Version i: 3 rows of minute i; from version 25 on a column `w` more (a merged file takes the union).
      const append = async (i: number) => {
        const f = join(kit.dir, `v${i}.parquet`);
        const wider = i >= 25;
        await duck.run(
          `COPY (SELECT make_timestamptz(${(T0 + i * 60_000) * 1000}::BIGINT + j * 1000000) AS timestamp, ${i} + j / 10 AS v${wider ? ", j AS w" : ""} FROM range(3) t(j)) TO '${f}' (FORMAT parquet)`,
        );
        const columns = [
          { name: "timestamp", type: "TIMESTAMP WITH TIME ZONE" },
          { name: "v", type: "DOUBLE" },
          ...(wider ? [{ name: "w", type: "BIGINT" }] : []),
        ];
        const min = BigInt(T0 + i * 60_000) * 1000n;
        await pond.write(["pond", "copy", f, "/s.series"], async ({ txn }) => {
          await new WD(txn).createFile("/s.series", "file:series", new Uint8Array(readFileSync(f)), {
            minEventTime: min,
            maxEventTime: min + 2_000_000n,
            attributes: { columns, timestamp_column: "timestamp" },
          });
        });
      };
      const compare = async () => {
        const view = await pond.view();
        const st = (await new WD(view).resolve("/s.series"))!;
        const summary = await view.seriesSummary(st.parentId, st.nodeId);
        const fromSummary = segmentsOfSummary(summary);
        expect(fromSummary).toBeDefined();
        expect(fromSummary).toEqual(segmentsOf(view, await realVersions.call(view, st.parentId, st.nodeId)));
        return fromSummary!;
      };
      TLogView.prototype.versions = async function (this: TLogView, parentId, nodeId) {
        versionsRead.n++;
        return realVersions.call(this, parentId, nodeId);
      };
      const before = { ...planSources };
      let merged = 0;
      for (let i = 0; i < 40; i++) {
        await append(i);
        const segs = await compare();
        merged = Math.max(merged, segs.filter((s) => s.merged).length);
      }
      // Automatic merges happened (files of several versions, re-merged as they grew), every one planned from the summary.
      expect(merged).toBeGreaterThan(0);
      expect(planSources.summary).toBeGreaterThan(before.summary);
      expect(planSources.versions).toBe(before.versions);
      // No write, automatic merge or plan read every version (compare()'s own reads are not counted).
      expect(versionsRead.n).toBe(0);
      // `pond maintain merge` by hand merges what is left, and the rows are all there.
      await merge(pond, { targetBytes: 128 << 20, maxInputFiles: 1000 });
      const segs = await compare();
      expect(segs.length).toBeLessThan(4);
      expect(versionsRead.n).toBe(0);
      const view = await pond.view();
      const st = await new WD(view).stat("/s.series");
      expect(st.versions!.length).toBe(40);
    } finally {
      TLogView.prototype.versions = realVersions;
      duck.close();
      kit.cleanup();
    }
  }, 120_000);
});
