import { expect, test } from "bun:test";
import { newTxnMeta } from "./txn-meta.ts";
import { uuid7Time } from "./uuid7.ts";

test("newTxnMeta() stamps a UUIDv7 id and the start time from the same clock", () => {
  const command = ["pond", "mkdir", "/a"];
  const m = newTxnMeta(command, "ada", 1_700_000_000_000);
  expect(m).toMatchObject({ command, user: "ada", startedAt: 1_700_000_000_000 });
  expect(uuid7Time(m.txnId)).toBe(1_700_000_000_000);
  command.push("changed");
  expect(m.command).toEqual(["pond", "mkdir", "/a"]);
});
