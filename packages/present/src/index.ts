export * from "./export.ts";
export * from "./site-build.ts";
export * from "./site-config.ts";
export * from "./errors.ts";
export * from "./chart.ts";
export * from "./reduce-config.ts";
export * from "./reduce-sql.ts";
export * from "./reduce.ts";
