import { describe, expect, test } from "bun:test";
import { writeJson } from "./json-stream.ts";

const text = (value: unknown, streamed?: (v: object) => Iterable<unknown> | undefined) => {
  const parts: string[] = [];
  writeJson({ write: (s) => void parts.push(s) }, value, streamed);
  return { text: parts.join(""), writes: parts.length };
};

class Lazy {
  constructor(readonly items: unknown[]) {}
  *[Symbol.iterator]() {
    yield* this.items;
  }
  toJSON() {
    return [...this.items];
  }
}

describe("writeJson", () => {
  test("writeJson() writes what JSON.stringify(value, null, 2) does, for nested objects, arrays and edge values", () => {
    const values: unknown[] = [
      { dryRun: false, steps: [] },
      {
        a: 1,
        b: 'quote " backslash \\ newline \n tab \t control \u0001 é 😀 \u2028',
        c: [1, "x", null, true, undefined, () => 1, { d: [], e: {}, f: undefined }],
        g: { h: { i: [[1, 2], [], [{}]] } },
        j: undefined,
        k: -0,
        l: 1e21,
        m: Number.NaN,
        n: new Date(0),
        o: { toJSON: () => undefined },
        p: [{ toJSON: (key: string) => `key ${key}` }],
      },
      [],
      {},
      "text",
      42,
      null,
    ];
    for (const v of values) expect(text(v).text).toBe(`${JSON.stringify(v, null, 2)}\n`);
  });

  test("writeJson() writes a streamed value's elements as an array, one element at a time, equal to its toJSON", () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ key: `_delta_log/${i}.json`, size: i, why: i % 2 ? 'a "reason"' : "é" }));
    const report = {
      dryRun: true,
      steps: [
        { step: "cleanup", files: 1000, items: new Lazy(items) },
        { step: "none", items: new Lazy([]) },
      ],
    };
    const streamed = (v: object) => (v instanceof Lazy ? v : undefined);
    const out = text(report, streamed);
    expect(out.text).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(JSON.parse(out.text).steps[0].items).toEqual(items);
    // Many small writes (a bufferedSink gathers them), never the whole list as one string.
    expect(out.writes).toBeGreaterThan(1000);
  });
});
