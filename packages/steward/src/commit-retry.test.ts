import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { TransactionConflictError, WD, newTxnMeta } from "@pond/tinyfs";
import { tempKit, newPond } from "./backup-test-kit.ts";
import { DEFAULT_RETRY, backoffMs, retryPolicyFromEnv } from "./commit-retry.ts";

describe("backoffMs()", () => {
  test("is full jitter: uniform in [0, min(max, base·2^(n-1))), growing per attempt, capped", () => {
    const p = { attempts: 10, baseMs: 10, maxMs: 100 };
    expect(backoffMs(1, p, () => 0)).toBe(0);
    expect(backoffMs(1, p, () => 0.999)).toBe(9);
    expect(backoffMs(3, p, () => 0.5)).toBe(20);
    expect(backoffMs(9, p, () => 0.999)).toBe(99); // capped at maxMs
  });
});

describe("retryPolicyFromEnv()", () => {
  test("defaults, overrides, and a usage error naming a bad variable", () => {
    expect(retryPolicyFromEnv({})).toEqual(DEFAULT_RETRY);
    expect(retryPolicyFromEnv({ POND_COMMIT_ATTEMPTS: "2", POND_COMMIT_BACKOFF_MS: "0", POND_COMMIT_BACKOFF_MAX_MS: "7" })).toEqual({
      attempts: 2,
      baseMs: 0,
      maxMs: 7,
    });
    expect(() => retryPolicyFromEnv({ POND_COMMIT_ATTEMPTS: "0" })).toThrow(/POND_COMMIT_ATTEMPTS/);
    expect(() => retryPolicyFromEnv({ POND_COMMIT_BACKOFF_MS: "-1" })).toThrow(/POND_COMMIT_BACKOFF_MS/);
  });
});

describe("Pond.write() retries a lost commit in one place", () => {
  /** A write whose first `losses` attempts lose the race: another writer commits inside fn. */
  async function racedWrite(losses: number, attempts: number) {
    const kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    let calls = 0;
    try {
      const out = await pond.write(
        ["pond", "test"],
        async ({ txn }) => {
          calls++;
          await new WD(txn).createFile(`/mine-${calls}.txt`, "file:data", new TextEncoder().encode("x"));
          if (calls <= losses) {
            const other = await pond.persistence.begin(newTxnMeta(["other"]));
            await new WD(other).createFile(`/other-${calls}.txt`, "file:data", new TextEncoder().encode("y"));
            await other.commit();
          }
        },
        { attempts, baseMs: 1, maxMs: 2 },
      );
      return { out, calls, pond, kit };
    } catch (e) {
      return { error: e, calls, pond, kit };
    }
  }

  test("a conflict reruns the write on the new state and reports the real attempt count", async () => {
    const r = await racedWrite(2, 5);
    try {
      expect(r.out!.attempts).toBe(3);
      expect(r.calls).toBe(3);
      const names = (await new WD(await r.pond.view()).list("/")).map((e) => e.name).sort();
      expect(names).toEqual(["mine-3.txt", "other-1.txt", "other-2.txt"]);
      expect(r.pond.history().at(-1)!.status).toBe("committed");
    } finally {
      r.kit.cleanup();
    }
  });

  test("after the last attempt it fails with the one conflict error, its code and the number of attempts", async () => {
    const r = await racedWrite(9, 3);
    try {
      expect(r.error).toBeInstanceOf(TransactionConflictError);
      const e = r.error as TransactionConflictError;
      expect(e.code).toBe("commit_conflict");
      expect(e.kind).toBe("busy");
      expect(e.data.attempts).toBe(3);
      expect(e.message).toContain("after 3 attempts");
      expect(r.calls).toBe(3);
    } finally {
      r.kit.cleanup();
    }
  });
});
