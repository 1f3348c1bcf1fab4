// pond export to S3 (issue 16, "Also to an S3 remote's URL"): the compiled binary against a
// real S3 server (s3rver on 127.0.0.1, see support/s3-server.ts). The dataset is uploaded
// under the prefix with the folder export's keys; DuckDB reads the downloaded objects as one
// table with the pond's rows; a rerun deletes only what the last export wrote; a damaged
// payload uploads nothing.
import { afterAll, beforeAll, expect, test as bunTest } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { S3ObjectStore } from "@pond/oplog";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { startS3Server, type S3Server } from "./support/s3-server.ts";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";

const TIMEOUT = 60_000;
const test = (name: string, fn: () => Promise<void>) => bunTest(name, fn, TIMEOUT);

let s3: S3Server;
let ctx: Awaited<ReturnType<typeof newPond>>;
let n = 0;

beforeAll(async () => {
  s3 = await startS3Server();
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
    { pond: ctx.pondDir },
  );
  await pondOk(["copy", h("c.csv", "timestamp,v\n2024-02-10T00:00:00Z,5\n"), "/st/river.series"], { pond: ctx.pondDir });
}, TIMEOUT);
afterAll(async () => {
  await s3?.close();
  ctx?.cleanup();
});

/** The server's endpoint and credentials (the AWS_* defaults), plus `env`. */
function p(args: string[], env: Record<string, string> = {}) {
  return pond(args, { pond: ctx.pondDir, env: { ...s3.env, ...env } });
}
function ok(args: string[], env: Record<string, string> = {}) {
  return pondOk(args, { pond: ctx.pondDir, env: { ...s3.env, ...env } });
}

/** A store on the server through the project's S3 client, to list and download what pond wrote. */
function storeAt(prefix: string): S3ObjectStore {
  return new S3ObjectStore({ bucket: s3.bucket, prefix, endpoint: s3.endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
}
async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const m of storeAt(prefix).list("")) out.push(m.key);
  return out.sort();
}
/** Downloads every object under `prefix` into a new host folder. */
async function download(prefix: string): Promise<string> {
  const dir = join(ctx.dir, `dl${++n}`);
  const store = storeAt(prefix);
  for (const k of await keys(prefix)) {
    mkdirSync(dirname(join(dir, k)), { recursive: true });
    writeFileSync(join(dir, k), await store.get(k));
  }
  return dir;
}
async function readDataset(glob: string) {
  const duck = await openDuckDB();
  try {
    return await duck.all(
      `SELECT name, count(*)::INTEGER AS n, sum(v)::INTEGER AS s, count(extra)::INTEGER AS e, string_agg(DISTINCT month, ',' ORDER BY month) AS months FROM read_parquet('${glob}', hive_partitioning=true, union_by_name=true) GROUP BY name ORDER BY name`,
    );
  } finally {
    duck.close();
  }
}

test("two series export by month to s3://bucket/prefix; the downloaded objects read in DuckDB give the pond's rows", async () => {
  const url = `s3://${s3.bucket}/exports/one`;
  const r = await ok(["export", "/st/*.series", url, "--partition", "month", "--endpoint", s3.endpoint, "--report", "json"]);
  const report = JSON.parse(r.stdout);
  expect(report.dest).toBe(url);
  expect(await keys("exports/one")).toEqual([
    ".pond-export.json",
    "name=lake/year=2024/month=01/part-0.parquet",
    "name=lake/year=2024/month=02/part-0.parquet",
    "name=lake/year=2024/month=03/part-0.parquet",
    "name=river/year=2024/month=02/part-0.parquet",
  ]);
  const dir = await download("exports/one");
  expect(await readDataset(`${dir}/name=*/**/*.parquet`)).toEqual([
    { name: "lake", n: 4, s: 33, e: 2, months: "01,02,03" },
    { name: "river", n: 1, s: 5, e: 0, months: "02" },
  ]);
  const sizes = Object.fromEntries(report.files.map((f: { path: string; bytes: number }) => [f.path, f.bytes]));
  for (const [k, bytes] of Object.entries(sizes)) expect(readFileSync(join(dir, k)).length).toBe(bytes as number);
  expect(JSON.parse(readFileSync(join(dir, ".pond-export.json"), "utf8")).files).toEqual(Object.keys(sizes).sort());
});

test("a rerun with a time range deletes the old files the new export lacks, keeps a foreign object, and replaces the manifest", async () => {
  const url = `s3://${s3.bucket}/exports/two`;
  // Credentials through ${env:…} references instead of the AWS_* defaults.
  const refs = ["--access-key-id", "${env:MY_KEY}", "--secret-access-key", "${env:MY_SECRET}"];
  const env = { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", MY_KEY: "S3RVER", MY_SECRET: "S3RVER" };
  await ok(["export", "/st/*.series", url, "--partition", "month", "--endpoint", s3.endpoint, ...refs], env);
  await storeAt("exports/two").put("README.txt", new TextEncoder().encode("mine"));
  await storeAt("exports/two").put("name=lake/notes.txt", new TextEncoder().encode("also mine"));
  const r = await ok(
    ["export", "/st/*.series", url, "--partition", "month", "--time-start", "2024-02-01", "--endpoint", s3.endpoint, ...refs, "--report", "json"],
    env,
  );
  expect(JSON.parse(r.stdout).removed).toEqual(["name=lake/year=2024/month=01/part-0.parquet"]);
  expect(await keys("exports/two")).toEqual([
    ".pond-export.json",
    "README.txt",
    "name=lake/notes.txt",
    "name=lake/year=2024/month=02/part-0.parquet",
    "name=lake/year=2024/month=03/part-0.parquet",
    "name=river/year=2024/month=02/part-0.parquet",
  ]);
  const dir = await download("exports/two");
  expect(readFileSync(join(dir, "README.txt"), "utf8")).toBe("mine");
  expect(JSON.parse(readFileSync(join(dir, ".pond-export.json"), "utf8")).files).toEqual([
    "name=lake/year=2024/month=02/part-0.parquet",
    "name=lake/year=2024/month=03/part-0.parquet",
    "name=river/year=2024/month=02/part-0.parquet",
  ]);
  expect(await readDataset(`${dir}/name=*/**/*.parquet`)).toEqual([
    { name: "lake", n: 2, s: 30, e: 2, months: "02,03" },
    { name: "river", n: 1, s: 5, e: 0, months: "02" },
  ]);
});

test("--remote NAME takes the endpoint and credential references of a configured remote", async () => {
  await ok([
    "remote",
    "add",
    "backup",
    `s3://${s3.bucket}/pond-backup`,
    "--endpoint",
    s3.endpoint,
    "--access-key-id",
    "${env:BK_KEY}",
    "--secret-access-key",
    "${env:BK_SECRET}",
  ]);
  const env = { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", BK_KEY: "S3RVER", BK_SECRET: "S3RVER" };
  await ok(["export", "/st/river.series", `s3://${s3.bucket}/exports/three`, "--remote", "backup"], env);
  expect(await keys("exports/three")).toEqual([".pond-export.json", "name=river/part-0.parquet"]);
  // Without it, no endpoint: the client goes to AWS, which the test does not reach; without credentials it fails first.
  const none = await p(["export", "/st/river.series", `s3://${s3.bucket}/exports/three`, "--endpoint", s3.endpoint], {
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
  });
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain(`s3://${s3.bucket}/exports/three`);
});

test("a damaged payload exits 4 and uploads nothing", async () => {
  const d = JSON.parse((await ok(["describe", "/st/river.series", "--format", "json"])).stdout);
  const payload = join(ctx.pondDir, "data", "_large_files", `sha256=${d.versions[0].sha256}`);
  const good = readFileSync(payload);
  const bad = Buffer.from(good);
  bad[50]! ^= 1;
  writeFileSync(payload, bad);
  try {
    const r = await p(["export", "/st/*.series", `s3://${s3.bucket}/exports/four`, "--partition", "month", "--endpoint", s3.endpoint]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`"/st/river.series" version 1`);
    expect(await keys("exports/four")).toEqual([]);
  } finally {
    writeFileSync(payload, good);
  }
});

test("an unreachable endpoint, refused credentials and a missing bucket are errors naming the URL and the fix", async () => {
  const url = `s3://${s3.bucket}/exports/five`;
  const down = await p(["export", "/st/river.series", url, "--endpoint", "http://127.0.0.1:9"]);
  expect(down.code).not.toBe(0);
  expect(down.stderr).toContain(`Cannot reach ${url} at http://127.0.0.1:9`);
  const denied = await p(["export", "/st/river.series", url, "--endpoint", s3.endpoint], { AWS_ACCESS_KEY_ID: "WRONG" });
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toContain(`${url} at ${s3.endpoint} refused the credentials`);
  expect(denied.stderr).toContain("AWS_ACCESS_KEY_ID");
  const nobucket = await p(["export", "/st/river.series", "s3://no-such-bucket/x", "--endpoint", s3.endpoint]);
  expect(nobucket.code).not.toBe(0);
  expect(nobucket.stderr).toContain(`Bucket "no-such-bucket" of s3://no-such-bucket/x does not exist`);
  const literal = await p(["export", "/st/river.series", url, "--secret-access-key", "hunter2"]);
  expect(literal.code).toBe(2);
  expect(literal.stderr).not.toContain("hunter2");
  const hostWithFlag = await p(["export", "/st/river.series", `host://${join(ctx.dir, "x")}`, "--endpoint", s3.endpoint]);
  expect(hostWithFlag.code).toBe(2);
  expect(hostWithFlag.stderr).toContain("--endpoint applies to an s3:// destination");
  expect(await keys("exports/five")).toEqual([]);
});

test("a manifest at the prefix that is not one is an error naming it; nothing is uploaded", async () => {
  await storeAt("exports/six").put(".pond-export.json", new TextEncoder().encode("{not json"));
  const r = await p(["export", "/st/river.series", `s3://${s3.bucket}/exports/six`, "--endpoint", s3.endpoint]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`Cannot use the export manifest s3://${s3.bucket}/exports/six/.pond-export.json: it is not JSON`);
  expect(await keys("exports/six")).toEqual([".pond-export.json"]);
});

test("--help describes the S3 destination and its options", async () => {
  const h = (await pondOk(["export", "--help"])).stdout;
  expect(h).toContain("s3://bucket/prefix");
  for (const o of ["--endpoint", "--region", "--access-key-id", "--secret-access-key", "--session-token", "--remote"]) expect(h).toContain(o);
});
