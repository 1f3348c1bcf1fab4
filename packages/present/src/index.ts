export * from "./export.ts";
export * from "./reduce-config.ts";
export * from "./reduce-sql.ts";
export * from "./reduce.ts";
