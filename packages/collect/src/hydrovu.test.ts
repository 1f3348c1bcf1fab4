import { describe, expect, test } from "bun:test";
import { redact } from "./hydrovu.ts";

describe("redact", () => {
  test("redact() blanks each secret, also URL-encoded as a form sends it", () => {
    const form = new URLSearchParams({ client_id: "id 1", client_secret: "s/e+c=r&t" }).toString();
    const out = redact(`HTTP 400: bad grant in ${form} (raw s/e+c=r&t)`, ["id 1", "s/e+c=r&t"]);
    expect(out).toBe("HTTP 400: bad grant in client_id=***&client_secret=*** (raw ***)");
  });

  test("redact() leaves text without secrets alone and ignores empty ones", () => {
    expect(redact("HTTP 500", ["", "abc"])).toBe("HTTP 500");
  });
});
