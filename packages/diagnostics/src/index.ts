export * from "./errors.ts";
export * from "./log.ts";
export * from "./timing.ts";
export * from "./progress.ts";
export * from "./lifetime.ts";
export * from "./libc.ts";
export * from "./memory.ts";
