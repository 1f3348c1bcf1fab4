export * from "./errors.ts";
export * from "./control-log.ts";
export * from "./write-lock.ts";
export * from "./pond.ts";
export * from "./recover.ts";
