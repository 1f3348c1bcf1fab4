import { describe, expect, test } from "bun:test";
import { bufferedSink, type Sink } from "./io.ts";

describe("bufferedSink()", () => {
  test("passes every byte on, in order, in few writes; flush writes the rest; bytes go through at once after what is pending", () => {
    const writes: (string | Uint8Array)[] = [];
    const inner: Sink = { write: (d) => void writes.push(d) };
    const out = bufferedSink(inner, 100);
    const lines = Array.from({ length: 1_000 }, (_, i) => `line ${i}\n`);
    for (const l of lines) out.write(l);
    expect(writes.length).toBeLessThan(lines.length / 5);
    out.write(new Uint8Array([1, 2]));
    out.write("tail\n");
    expect(writes.at(-1)).toEqual(new Uint8Array([1, 2]));
    out.flush();
    out.flush();
    expect(writes.at(-1)).toBe("tail\n");
    const text = writes.map((w) => (typeof w === "string" ? w : `<${[...w].join(",")}>`)).join("");
    expect(text).toBe(`${lines.join("")}<1,2>tail\n`);
  });
});
