export * from "./errors.ts";
export * from "./content-store.ts";
export * from "./partition-index.ts";
export * from "./tlog-persistence.ts";
export * from "./create-pond-table.ts";
export * from "./snapshot-cache.ts";
export * from "./row-cache.ts";
export * from "./query/index.ts";
