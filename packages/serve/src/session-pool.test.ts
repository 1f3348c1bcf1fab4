import { expect, test } from "bun:test";
import { SessionPool } from "./session-pool.ts";

test("SessionPool.slot() lets maxRunning queries run and the next wait for a release, in order", async () => {
  const pool = new SessionPool(false, 2);
  const a = await pool.slot();
  const b = await pool.slot();
  const order: string[] = [];
  const mark = (name: string) => (release: () => void) => {
    order.push(name);
    return release;
  };
  const c = pool.slot().then(mark("c"));
  const d = pool.slot().then(mark("d"));
  await Promise.resolve();
  expect(pool.load()).toEqual({ running: 2, waiting: 2 });
  expect(order).toEqual([]);
  a();
  a(); // a second release of the same turn changes nothing
  const rc = await c;
  expect(order).toEqual(["c"]);
  expect(pool.load()).toEqual({ running: 2, waiting: 1 });
  b();
  const rd = await d;
  expect(order).toEqual(["c", "d"]);
  rc();
  rd();
  expect(pool.load()).toEqual({ running: 0, waiting: 0 });
  await pool.close();
});

test("SessionPool.take() gives a fresh unlocked session each time and keeps one spare", async () => {
  const pool = new SessionPool(true);
  const s1 = await pool.take();
  const s2 = await pool.take();
  expect(s1).not.toBe(s2);
  expect(s1.tempDirectory).not.toBe(s2.tempDirectory);
  expect(await s1.all("SELECT 42 AS x")).toEqual([{ x: 42 }]);
  s1.close();
  s2.close();
  await pool.close();
});
