// Issue 15, differential: every unexpired snapshot of a pond answers identically (list -l,
// describe, cat, cat --version, a query over every table and series, every version's bytes)
// before and after each maintenance command of MAINTENANCE_OPS, for a pond from the fixtures
// and for ponds from seeded random operations (MAINTAIN_DIFF_SEED replays one).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildFixturePond, buildRandomPond, MAINTENANCE_OPS, runDifferential, seedFrom } from "./support/maintain-harness.ts";
import { pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
let n = 0;
beforeAll(() => {
  tmp = tempDir("pond-maintain-diff-");
});
afterAll(() => tmp?.cleanup());

async function freshPond(): Promise<{ P: { pond: string }; work: string }> {
  const pond = join(tmp.dir, `pond-${++n}`);
  await pondOk(["init"], { pond });
  return { P: { pond }, work: tmp.dir };
}

describe("maintenance changes no answer of an unexpired snapshot", () => {
  test(`a pond from the fixtures: ${MAINTENANCE_OPS.map((o) => o.name).join(", ")}`, async () => {
    const { P, work } = await freshPond();
    await buildFixturePond(P, work);
    const did = await runDifferential(P, MAINTENANCE_OPS, "fixtures");
    // Each command had work to do here (expire's is logical: it reports no files).
    for (const op of MAINTENANCE_OPS.filter((o) => !o.name.startsWith("expire")))
      expect({ op: op.name, files: did[op.name]!.reduce((n, x) => n + x.files, 0) > 0 }).toEqual({ op: op.name, files: true });
  }, 240_000);

  test("a pond from seeded random copies, appends, new columns, replaced tables, renames and removes", async () => {
    const seed = seedFrom("MAINTAIN_DIFF_SEED", "differential random pond");
    const { P, work } = await freshPond();
    const done = await buildRandomPond(P, work, seed, Number(process.env.MAINTAIN_DIFF_OPS ?? 12));
    try {
      await runDifferential(P, MAINTENANCE_OPS, `random seed ${seed}`, { cliSample: "newest" });
    } catch (e) {
      console.log(`seed ${seed} built the pond with:\n  ${done.join("\n  ")}`);
      throw e;
    }
  }, 240_000);
});
