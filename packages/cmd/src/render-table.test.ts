import { describe, expect, test } from "bun:test";
import { duckbox, escapeControl, renderRows } from "./render-table.ts";
import type { IO } from "./io.ts";

function ttyIO(): IO & { text(): string } {
  let out = "";
  return { out: { write: (d) => void (out += String(d)) }, err: { write: () => {} }, outIsTTY: true, errIsTTY: true, cwd: "/", env: {}, text: () => out };
}

describe("duckbox()", () => {
  test("draws one rule under the header, none between rows, numbers right-aligned", () => {
    expect(
      duckbox(
        [
          ["n", "integer"],
          ["name", "varchar"],
        ],
        [
          ["1", "a"],
          ["100", "日本"],
        ],
        [true, false],
      ),
    ).toBe(
      "┌─────────┬─────────┐\n" +
        "│    n    │  name   │\n" +
        "│ integer │ varchar │\n" +
        "├─────────┼─────────┤\n" +
        "│       1 │ a       │\n" +
        "│     100 │ 日本    │\n" +
        "└─────────┴─────────┘\n",
    );
  });
});

describe("escapeControl()", () => {
  test("shows newline, tab, ESC, DEL and lone surrogates as escapes; leaves other text alone", () => {
    expect(escapeControl("a\nb\tc\u001b[31md\u007fé🌊\ud800")).toBe("a\\nb\\tc\\x1b[31md\\x7fé🌊\\u{d800}");
  });
});

describe("renderRows()", () => {
  test("on a terminal, a name from an older pond with control characters prints escaped", () => {
    const io = ttyIO();
    renderRows(io, [{ path: "/bad\nname\u001b[2J", size: 3 }], ["path", "size"], "text");
    expect(io.text()).toContain("/bad\\nname\\x1b[2J");
    expect(io.text()).not.toContain("\u001b");
    expect(io.text()).toContain("│    3 │");
  });
});
