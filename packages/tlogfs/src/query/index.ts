export * from "./time-bounds.ts";
export * from "./sql-sources.ts";
export * from "./pond-sources.ts";
export * from "./csv-reader.ts";
export * from "./ingest.ts";
export * from "./query-session.ts";
export * from "./direct-rows.ts";
export * from "./series-schema.ts";
