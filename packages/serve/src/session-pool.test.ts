import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { QuerySession } from "@pond/tlogfs";
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

test("SessionPool.park() keeps sessions by key, closes older transactions' and the oldest past the limit", async () => {
  const pool = new SessionPool(false);
  const names = ["1a", "1b", "2a", "2c", "2d", "2e", "2f"];
  const sessions = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await QuerySession.open()] as const)));
  const closed = () => names.filter((n) => !existsSync(sessions[n]!.tempDirectory));
  pool.park("1\u0000a", sessions["1a"]!);
  pool.park("1\u0000b", sessions["1b"]!);
  expect(pool.takeParked("1\u0000a")).toBe(sessions["1a"]!);
  expect(pool.takeParked("1\u0000a")).toBeUndefined();
  sessions["1a"]!.close();
  pool.park("2\u0000a", sessions["2a"]!);
  expect(closed()).toEqual(["1a", "1b"]);
  for (const k of ["c", "d", "e", "f"]) pool.park(`2\u0000${k}`, sessions[`2${k}`]!);
  expect(closed()).toEqual(["1a", "1b", "2a"]);
  expect(pool.parkedCount()).toBe(4);
  await pool.close();
  expect(closed()).toEqual(names);
});
