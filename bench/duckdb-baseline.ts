// The baseline for SQL benchmarks: raw DuckDB (the same native engine pond embeds) running
// one SQL text in a fresh process, so its time is comparable to a `pond` command's.
// Usage: bun bench/duckdb-baseline.ts "SQL"
import { openDuckDB } from "@pond/tlogfs/duckdb";

const duck = await openDuckDB();
try {
  const rows = await duck.all(process.argv[2]!);
  process.stdout.write(JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n");
} finally {
  duck.close();
}
