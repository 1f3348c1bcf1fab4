// pond export: a Hive-partitioned dataset that DuckDB reads as one table with the same
// rows as the pond; a rerun replaces what the last export wrote and nothing else; a
// damaged payload writes nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
const P = () => ({ pond: ctx.pondDir });

beforeAll(async () => {
  ctx = await newPond();
  const h = (name: string, text: string) => {
    writeFileSync(join(ctx.dir, name), text);
    return `host+series+csv://${join(ctx.dir, name)}`;
  };
  await pondOk(
    [
      "copy",
      "-p",
      h("a.csv", "timestamp,v\n2024-01-30T00:00:00Z,1\n2024-01-31T12:00:00Z,2\n"),
      h("b.csv", "timestamp,v,extra\n2024-02-01T00:00:00Z,10,x\n2024-03-05T00:00:00Z,20,y\n"),
      "/st/lake.series",
    ],
    P(),
  );
  await pondOk(["copy", h("c.csv", "timestamp,v\n2024-02-10T00:00:00Z,5\n"), "/st/river.series"], P());
});
afterAll(() => ctx.cleanup());

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), base) : [join(dir, e.name).slice(base.length + 1)]))
    .sort();
}

async function readDataset(glob: string, format: "parquet" | "csv" = "parquet") {
  const duck = await openDuckDB();
  try {
    const reader =
      format === "csv"
        ? `read_csv('${glob}', hive_partitioning=true, union_by_name=true)`
        : `read_parquet('${glob}', hive_partitioning=true, union_by_name=true)`;
    return await duck.all(
      `SELECT name, count(*)::INTEGER AS n, sum(v)::INTEGER AS s, count(extra)::INTEGER AS e, min(year)::VARCHAR AS y FROM ${reader} GROUP BY name ORDER BY name`,
    );
  } finally {
    duck.close();
  }
}

test("a glob of series exports by month; DuckDB reads the folder as one table with the pond's rows", async () => {
  const out = join(ctx.dir, "out");
  await pondOk(["export", "/st/*.series", `host://${out}`, "--partition", "month"], P());
  expect(files(out)).toEqual([
    ".pond-export.json",
    "name=lake/year=2024/month=01/part-0.parquet",
    "name=lake/year=2024/month=02/part-0.parquet",
    "name=lake/year=2024/month=03/part-0.parquet",
    "name=river/year=2024/month=02/part-0.parquet",
  ]);
  expect(await readDataset(`${out}/**/*.parquet`)).toEqual([
    { name: "lake", n: 4, s: 33, e: 2, y: "2024" },
    { name: "river", n: 1, s: 5, e: 0, y: "2024" },
  ]);
});

test("a rerun with a time range replaces the previous export's files and leaves other files alone", async () => {
  const out = join(ctx.dir, "out2");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "README.txt"), "mine");
  await pondOk(["export", "/st/lake.series", `host://${out}`, "--partition", "month"], P());
  const r = await pondOk(["export", "/st/lake.series", `host://${out}`, "--partition", "month", "--time-start", "2024-02-01", "--report", "json"], P());
  const report = JSON.parse(r.stdout);
  expect(report.removed).toEqual(["name=lake/year=2024/month=01/part-0.parquet"]);
  expect(files(out)).toEqual([".pond-export.json", "README.txt", "name=lake/year=2024/month=02/part-0.parquet", "name=lake/year=2024/month=03/part-0.parquet"]);
  expect(readFileSync(join(out, "README.txt"), "utf8")).toBe("mine");
  expect(await readDataset(`${out}/name=*/**/*.parquet`)).toEqual([{ name: "lake", n: 2, s: 30, e: 2, y: "2024" }]);
});

test("CSV, unpartitioned: one file a source", async () => {
  const out = join(ctx.dir, "out3");
  await pondOk(["export", "/st/*.series", `host://${out}`, "--format", "csv"], P());
  expect(files(out)).toEqual([".pond-export.json", "name=lake/part-0.csv", "name=river/part-0.csv"]);
  expect(readFileSync(join(out, "name=lake/part-0.csv"), "utf8").split("\n")[0]).toBe("timestamp,v,extra");
});

test("a damaged payload exits 4 and writes nothing; a pattern that matches nothing is an error", async () => {
  const d = JSON.parse((await pondOk(["describe", "/st/river.series", "--format", "json"], P())).stdout);
  const payload = join(ctx.pondDir, "data", "_large_files", `sha256=${d.versions[0].sha256}`);
  const good = readFileSync(payload);
  const bad = Buffer.from(good);
  bad[50]! ^= 1;
  writeFileSync(payload, bad);
  const out = join(ctx.dir, "out4");
  try {
    const r = await pond(["export", "/st/*.series", `host://${out}`], P());
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`"/st/river.series" version 1`);
    expect(existsSync(out) ? files(out) : []).toEqual([]);
  } finally {
    writeFileSync(payload, good);
  }
  const none = await pond(["export", "/nothing/*.series", `host://${out}`], P());
  expect(none.code).toBe(1);
  expect(none.stderr).toContain("/nothing/*.series");
});

test("reduce outputs of two stations (res=1h.series under lake/ and river/) export as name=lake/res=1h/…, read back with name and res columns", async () => {
  const t = await newPond();
  const o = { pond: t.pondDir };
  try {
    for (const [st, rows] of [
      ["lake", "timestamp,v\n2024-01-01T00:10:00Z,1\n2024-01-01T00:20:00Z,3\n2024-01-02T00:00:00Z,5\n"],
      ["river", "timestamp,v\n2024-01-01T00:00:00Z,7\n"],
    ] as const) {
      writeFileSync(join(t.dir, `${st}.csv`), rows);
      await pondOk(["copy", "-p", `host+series+csv://${join(t.dir, `${st}.csv`)}`, `/st/${st}.series`], o);
    }
    writeFileSync(join(t.dir, "r.yaml"), "in: /st/*.series\nout: /reduced\nresolutions: [1h, 1d]\naggregations: [sum]\n");
    await pondOk(["copy", "-p", `host://${join(t.dir, "r.yaml")}`, "/etc/reduce/r.yaml"], o);
    await pondOk(["reduce"], o);
    const out = join(t.dir, "out");
    const report = JSON.parse((await pondOk(["export", "/reduced/*/*.series", `host://${out}`, "--partition", "month", "--report", "json"], o)).stdout);
    expect(report.sources.map((s: { name: string }) => s.name).sort()).toEqual([
      "name=lake/res=1d",
      "name=lake/res=1h",
      "name=river/res=1d",
      "name=river/res=1h",
    ]);
    expect(files(out)).toEqual([
      ".pond-export.json",
      "name=lake/res=1d/year=2024/month=01/part-0.parquet",
      "name=lake/res=1h/year=2024/month=01/part-0.parquet",
      "name=river/res=1d/year=2024/month=01/part-0.parquet",
      "name=river/res=1h/year=2024/month=01/part-0.parquet",
    ]);
    const duck = await openDuckDB();
    try {
      const rows = await duck.all(
        `SELECT name, res, month::INTEGER AS month, count(*)::INTEGER AS n, sum("v.sum")::INTEGER AS s FROM read_parquet('${out}/**/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL`,
      );
      expect(rows).toEqual([
        { name: "lake", res: "1d", month: 1, n: 2, s: 9 },
        { name: "lake", res: "1h", month: 1, n: 2, s: 9 },
        { name: "river", res: "1d", month: 1, n: 1, s: 7 },
        { name: "river", res: "1h", month: 1, n: 1, s: 7 },
      ]);
    } finally {
      duck.close();
    }
  } finally {
    t.cleanup();
  }
}, 60_000);
