// @pond/serve: the long-running server mode (`pond serve`) and streaming ingest
// (`pond ingest`, `POST /ingest/...`): a write-ahead file under control/, buffers per
// destination flushed to one new version, deduplication, CDC into tables.
export * from "./metrics.ts";
export type * from "./part.ts";
export * from "./errors.ts";
export * from "./auth.ts";
export * from "./connection-tracker.ts";
export * from "./server.ts";
export * from "./sql-route.ts";
export * from "./ingest/index.ts";
