import { describe, expect, test } from "bun:test";
import { ConnectionTracker, closedAfterSeconds, parseIdleTimeout } from "./connection-tracker.ts";

describe("ConnectionTracker", () => {
  test("closedAfterSeconds() rounds the idle timeout up to Bun's 4 s tick, plus 1 s", () => {
    expect([1, 3, 4, 5, 9, 35, 255].map(closedAfterSeconds)).toEqual([5, 5, 5, 9, 13, 37, 257]);
  });

  test("counts() holds a connection while it answers and for the window after its last answer, then forgets it", () => {
    let now = 0;
    const t = new ConnectionTracker(1, () => now); // window 5 s
    t.begin("127.0.0.1:5001");
    t.begin("127.0.0.1:5002");
    t.begin("127.0.0.1:5002"); // a second request on the same connection
    expect(t.counts()).toEqual({ openAtMost: 2, answering: 2, idleTimeoutSeconds: 1, countedForSeconds: 5 });
    now = 100;
    t.end("127.0.0.1:5001");
    t.end("127.0.0.1:5002");
    expect(t.counts()).toMatchObject({ openAtMost: 2, answering: 1 }); // 5002's other request runs on
    t.end("127.0.0.1:5002");
    expect(t.counts()).toMatchObject({ openAtMost: 2, answering: 0 });
    now = 4_999;
    expect(t.counts().openAtMost).toBe(2);
    t.begin("127.0.0.1:5002");
    now = 5_100; // 5001 idle for 5 s: Bun has closed it; 5002 is answering (however long ago it began)
    expect(t.counts()).toMatchObject({ openAtMost: 1, answering: 1 });
    now = 60_000;
    expect(t.counts()).toMatchObject({ openAtMost: 1, answering: 1 });
    t.end("127.0.0.1:5002");
    now = 65_000;
    expect(t.counts()).toMatchObject({ openAtMost: 0, answering: 0 });
    t.end("127.0.0.1:5002"); // an end without a begin changes nothing
    expect(t.counts().openAtMost).toBe(0);
  });

  test("parseIdleTimeout() takes 1 to 255 whole seconds and refuses the rest with bad_idle_timeout", () => {
    expect([parseIdleTimeout("1s"), parseIdleTimeout("2m"), parseIdleTimeout("255s"), parseIdleTimeout("4000ms")]).toEqual([1, 120, 255, 4]);
    for (const bad of ["0s", "256s", "1500ms", "5", "soon"]) {
      expect(() => parseIdleTimeout(bad)).toThrow(expect.objectContaining({ code: "bad_idle_timeout" }));
    }
  });
});
