import { expect, test } from "bun:test";
import { limiter, mapLimit } from "./concurrency.ts";

test("mapLimit() keeps input order and never runs more than the limit at once", async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (ms, i) => {
    running++;
    peak = Math.max(peak, running);
    await Bun.sleep(ms);
    running--;
    return i * 10;
  });
  expect(out).toEqual([0, 10, 20, 30, 40, 50]);
  expect(peak).toBe(2);
});

test("mapLimit() after a failure starts nothing new, waits for work in flight, then throws the first error", async () => {
  const started: number[] = [];
  let inFlight = 0;
  const err = await mapLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    inFlight++;
    try {
      if (i === 1) throw new Error("first");
      if (i === 2) throw new Error("second");
      await Bun.sleep(20);
      return i;
    } finally {
      inFlight--;
    }
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).toBe("first");
  expect(inFlight).toBe(0); // item 0, slower than the failure, had finished when it threw
  expect(started).toEqual([0, 1]);
});

test("limiter() runs at most n at once and a failure frees its slot", async () => {
  const run = limiter(2);
  let running = 0;
  let peak = 0;
  const job = (fail: boolean) =>
    run(async () => {
      running++;
      peak = Math.max(peak, running);
      await Bun.sleep(5);
      running--;
      if (fail) throw new Error("x");
      return 1;
    });
  const r = await Promise.allSettled([job(true), job(false), job(true), job(false), job(false)]);
  expect(r.map((x) => x.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
  expect(peak).toBe(2);
});
