// The year-long collector's pond, shared by bench/collector.bench.ts and
// bench/control-size.bench.ts: version i is 10 rows, one every 6 s of minute i, and the
// library appends it as `pond copy host+series://… /data/lake.series` does (steward's
// Pond.write, automatic maintenance included), without the process start.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import type { openDuckDB } from "@pond/tlogfs/duckdb";

export const T0 = Date.UTC(2025, 0, 1);

/** Version i's payload file in `srcDir`, written once by `duck`. */
export async function versionFile(duck: Awaited<ReturnType<typeof openDuckDB>>, srcDir: string, i: number): Promise<string> {
  const f = join(srcDir, `v${i}.parquet`);
  if (existsSync(f)) return f;
  await duck.run(
    `COPY (SELECT make_timestamptz(${(T0 + i * 60_000) * 1000}::BIGINT + j * 6000000) AS timestamp, ${i} + j / 10 AS v, (j % 3) AS sensor FROM range(10) t(j)) TO '${f}' (FORMAT parquet)`,
  );
  return f;
}

/** Appends version i (file `f`) to /data/lake.series through the library, with the attributes a CLI copy recorded (`attrs`). */
export async function appendVersion(pond: Pond, i: number, f: string, attrs: Record<string, unknown> | undefined): Promise<void> {
  const bytes = new Uint8Array(await Bun.file(f).arrayBuffer());
  const min = BigInt(T0 + i * 60_000) * 1000n;
  await pond.write(["pond", "copy", `host+series://${f}`, "/data/lake.series"], async ({ txn }) => {
    await new WD(txn).createFile("/data/lake.series", "file:series", bytes, {
      minEventTime: min,
      maxEventTime: min + 54_000_000n,
      attributes: { ...attrs, source_sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex") },
    });
  });
}
