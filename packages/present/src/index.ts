export * from "./export.ts";
