import { describe, expect, test } from "bun:test";
import type { ObjectMeta } from "@pond/oplog";
import { isReplicated, planReplication } from "./replication-plan.ts";

const c = (v: number) => `_delta_log/${String(v).padStart(20, "0")}.json`;
const m = (key: string, size = 10): ObjectMeta => ({ key, size, lastModified: 0 });

describe("planReplication()", () => {
  test("planReplication() copies everything, payloads first, commits in version order, when the destination is empty", () => {
    const src = [m(c(1)), m(c(0)), m("part_id=a/part-1.parquet", 100), m("_large_files/sha256=" + "a".repeat(64), 1000), m(c(2))];
    const plan = planReplication(src, []);
    expect(plan.srcTip).toBe(2);
    expect(plan.dstTip).toBeNull();
    expect(plan.payloads.map((p) => p.key).sort()).toEqual(["_large_files/sha256=" + "a".repeat(64), "part_id=a/part-1.parquet"]);
    expect(plan.commits.map((x) => x.version)).toEqual([0, 1, 2]);
    expect(plan.files).toBe(5);
    expect(plan.bytes).toBe(1130);
  });

  test("planReplication() plans only what the destination lacks when it has an older copy", () => {
    const src = [m(c(0)), m(c(1)), m("p/a.parquet"), m("p/b.parquet", 20)];
    const dst = [m(c(0)), m("p/a.parquet")];
    const plan = planReplication(src, dst);
    expect(plan.dstTip).toBe(0);
    expect(plan.payloads.map((p) => p.key)).toEqual(["p/b.parquet"]);
    expect(plan.commits.map((x) => x.version)).toEqual([1]);
    expect(plan.bytes).toBe(30);
  });

  test("planReplication() re-copies a payload whose size differs at the destination (a partial or damaged copy)", () => {
    const plan = planReplication([m(c(0)), m("p/a.parquet", 50)], [m(c(0)), m("p/a.parquet", 7)]);
    expect(plan.payloads.map((p) => p.key)).toEqual(["p/a.parquet"]);
    expect(plan.commits).toEqual([]);
  });

  test("planReplication() never plans to overwrite a commit the destination has, even with another size", () => {
    const plan = planReplication([m(c(0), 10), m(c(1), 10)], [m(c(0), 99)]);
    expect(plan.commits.map((x) => x.version)).toEqual([1]);
  });

  test("planReplication() ignores temp files, the remote's _pond/ objects and unknown log files", () => {
    const src = [
      m(c(0)),
      m("_large_files/.tmp-123"),
      m("p/.pond-put-0123456789abcdef.tmp"),
      m("_delta_log/.tmp/x.json"),
      m("_delta_log/00000000000000000000.crc"),
      m("_pond/identity.json"),
    ];
    const plan = planReplication(src, []);
    expect(plan.payloads).toEqual([]);
    expect(plan.files).toBe(1);
    expect(isReplicated("_pond/manifests/x.jsonl")).toBe(false);
    expect(isReplicated("part_id=x/part-1.parquet")).toBe(true);
  });

  test("planReplication() copies checkpoints after commits and _last_checkpoint only when something new arrives", () => {
    const cp = "_delta_log/00000000000000000002.checkpoint.parquet";
    const src = [m(c(0)), m(c(1)), m(c(2)), m(cp, 500), m("_delta_log/_last_checkpoint", 40)];
    const first = planReplication(src, [m(c(0))]);
    expect(first.checkpoints.map((x) => x.key)).toEqual([cp]);
    expect(first.lastCheckpoint?.key).toBe("_delta_log/_last_checkpoint");
    const again = planReplication(src, src);
    expect(again.files).toBe(0);
    expect(again.lastCheckpoint).toBeNull();
  });
});
