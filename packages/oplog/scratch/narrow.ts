interface AddAction { path: string }
type Known = { add: AddAction } | { remove: { path: string } } | { commitInfo: Record<string, unknown> };
type Other = { [k: string]: unknown; add?: never; remove?: never; commitInfo?: never };
type Action = Known | Other;
declare const a: Action;
if ("add" in a) { const p: string = a.add.path; }
if ("add" in a && a.add) { const p: string = a.add.path; }
const b: Action = { cdc: { path: "x" } };
const c: Action = { add: { path: "x" } };
const arr: Action[] = [{ add: { path: "x" } }, { txn: 1 }];
