// The baseline for bench/serve-query.bench.ts: raw DuckDB (the engine pond embeds), resident
// in a process of its own behind the same HTTP server (Bun.serve), running each POSTed SQL
// text as it is, with no sandbox and no pond code. Compiled as pond is. Prints its URL.
// Usage: duckdb-http-baseline   (then POST SQL to the URL; SIGTERM to stop)
import { openDuckDB } from "@pond/tlogfs/duckdb";

const duck = await openDuckDB();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const rows = await duck.all(await req.text());
    return new Response(
      JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? Number(v) : v)),
      { headers: { "content-type": "application/json" } },
    );
  },
});
process.stdout.write(`http://127.0.0.1:${server.port}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  duck.close();
  process.exit(0);
});
