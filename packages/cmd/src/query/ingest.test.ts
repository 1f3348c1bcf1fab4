import { expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAsItWas } from "./ingest.ts";

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ingest-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test("readAsItWas() reads the file once when it does not change", () =>
  withDir(async (dir) => {
    const f = join(dir, "a.csv");
    writeFileSync(f, "t,v\n1,2\n");
    const seen: string[] = [];
    const r = await readAsItWas(
      f,
      () => join(dir, "snap"),
      async (p) => {
        seen.push(readFileSync(p, "utf8"));
        return 7;
      },
    );
    expect(r).toEqual({ result: 7, size: 8 });
    expect(seen).toEqual(["t,v\n1,2\n"]);
  }));

test("readAsItWas() reads again from a snapshot of the first bytes when the file grows while read", () =>
  withDir(async (dir) => {
    const f = join(dir, "log.csv");
    writeFileSync(f, "t,v\n1,2\n");
    const seen: string[] = [];
    const r = await readAsItWas(
      f,
      () => join(dir, "snap"),
      async (p) => {
        seen.push(readFileSync(p, "utf8"));
        if (seen.length === 1) appendFileSync(f, "3,"); // a logger mid-line
        return seen.length;
      },
    );
    expect(r.result).toBe(2);
    expect(r.snapshot).toBe(join(dir, "snap"));
    expect(seen).toEqual(["t,v\n1,2\n", "t,v\n1,2\n"]);
  }));

test("readAsItWas() refuses a file truncated while read", () =>
  withDir(async (dir) => {
    const f = join(dir, "x.csv");
    writeFileSync(f, "t,v\n1,2\n");
    await expect(
      readAsItWas(
        f,
        () => join(dir, "snap"),
        async () => {
          truncateSync(f, 2);
        },
      ),
    ).rejects.toMatchObject({ code: "host_changed" });
  }));
