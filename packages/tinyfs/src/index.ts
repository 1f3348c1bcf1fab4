export * from "./types.ts";
export * from "./persistence.ts";
export * from "./errors.ts";
