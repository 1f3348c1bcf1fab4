export * from "./expiry.ts";
export * from "./reachability.ts";
export * from "./snapshots.ts";
export * from "./operations.ts";
export * from "./fsck.ts";
export * from "./pond-config.ts";
export * from "./merge.ts";
export * from "./step-items.ts";
