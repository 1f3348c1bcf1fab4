import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalObjectStore } from "@pond/oplog";
import { largeFileKey } from "@pond/tlogfs";
import { bytes, newPond, tempKit, writeFile, type Kit } from "./backup-test-kit.ts";
import { push } from "./push.ts";
import { addRemote } from "./remotes.ts";
import { verify } from "./verify.ts";
import { sha256 as sha } from "../../../test/support/kit.ts";

let kit: Kit;
beforeEach(() => {
  kit = tempKit();
});
afterEach(() => kit.cleanup());

async function setup() {
  const pond = await newPond(join(kit.dir, "p"));
  const big = bytes(150_000, 3);
  await writeFile(pond, "/big.bin", big);
  await writeFile(pond, "/small.txt", "s");
  const remoteDir = join(kit.dir, "remote");
  await addRemote(pond, { name: "r", url: `file://${remoteDir}` });
  await push(pond, "r");
  return { pond, remoteDir, big };
}

describe("verify()", () => {
  test("verify() is clean, quick and deep, right after a push", async () => {
    const { pond } = await setup();
    for (const deep of [false, true]) {
      const rep = await verify(pond, "r", { deep });
      expect(rep.wrong).toEqual([]);
      expect(rep.behind).toEqual([]);
      expect(rep.localTip).toBe(rep.remoteTip!);
      expect(rep.matches.length).toBeGreaterThanOrEqual(4);
    }
  });

  test("verify() says the remote is behind when there are unpushed versions", async () => {
    const { pond } = await setup();
    await writeFile(pond, "/later.txt", "later");
    const rep = await verify(pond, "r");
    expect(rep.wrong).toEqual([]);
    expect(rep.behind.join("\n")).toContain("1 version(s) behind");
  });

  test("verify() finds a missing object quickly, and --deep a changed one, naming each", async () => {
    const { pond, remoteDir, big } = await setup();
    const key = largeFileKey(sha(big));
    const file = join(remoteDir, key);
    const b = readFileSync(file);
    b[10] ^= 0xff;
    writeFileSync(file, b);
    expect((await verify(pond, "r")).wrong).toEqual([]); // same size: only re-hashing sees it
    const deep = await verify(pond, "r", { deep: true });
    expect(deep.wrong.map((w) => w.key)).toEqual([key]);
    expect(deep.wrong[0]!.problem).toContain("hashes to");

    const part = (await Array.fromAsync(new LocalObjectStore(remoteDir).list("part_id="))).at(-1)!;
    await new LocalObjectStore(remoteDir).delete(part.key);
    const quick = await verify(pond, "r");
    expect(quick.wrong.map((w) => w.key)).toContain(part.key);
  });

  test("verify() reports a remote holding another pond with both ids", async () => {
    const { pond, remoteDir } = await setup();
    const other = await newPond(join(kit.dir, "o"));
    await addRemote(other, { name: "r", url: `file://${remoteDir}` });
    const rep = await verify(other, "r");
    expect(rep.wrong).toHaveLength(1);
    expect(rep.wrong[0]!.problem).toContain(pond.id);
    expect(rep.wrong[0]!.problem).toContain(other.id);
  });
});
