import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { LocalObjectStore, commitKey } from "@pond/oplog";
import { logger } from "@pond/diagnostics";
import { bytes, listing, newPond, tempKit, writeFile, type Kit } from "./backup-test-kit.ts";
import { RemoteDivergedError, RemoteOwnedByOtherPondError } from "./errors.ts";
import { push } from "./push.ts";
import { readRemotes } from "./remote-config.ts";
import { addRemote } from "./remotes.ts";
import { IDENTITY_KEY, readRemoteControl } from "./remote-layout.ts";
import { archiveFileName, ControlHistory } from "./control-archive.ts";
import { readControl } from "./control-log.ts";
import { cleanup, setConfig } from "./maintenance/index.ts";

function logicalEnd(path: string): number {
  using h = ControlHistory.open(path);
  return h.end;
}
import { pondStatus } from "./status.ts";

let kit: Kit;
beforeEach(() => {
  kit = tempKit();
});
afterEach(() => kit.cleanup());

describe("push()", () => {
  test("push() uploads data/ and an identity to an empty remote, payloads before commits", async () => {
    const pond = await newPond(join(kit.dir, "p"));
    await writeFile(pond, "/a/big.bin", bytes(200_000, 1));
    await writeFile(pond, "/a/small.txt", "hello");
    const remoteDir = join(kit.dir, "remote");
    await addRemote(pond, { name: "usb", url: `file://${remoteDir}` });
    const [rep] = await push(pond, "usb");
    expect(rep!.fromVersion).toBeNull();
    expect(rep!.toVersion).toBe(2);
    const remoteKeys = (await listing(remoteDir)).map((m) => m.key);
    const localKeys = (await listing(pond.paths.data)).map((m) => m.key);
    for (const k of localKeys) expect(remoteKeys).toContain(k);
    expect(remoteKeys).toContain(IDENTITY_KEY);
    expect(remoteKeys.filter((k) => k.startsWith("_pond/manifests/"))).toHaveLength(1);
    expect(remoteKeys.filter((k) => k.startsWith("_pond/control/"))).toHaveLength(1);
    expect(readRemotes(pond.paths)[0]!.lastPushed?.version).toBe(2);
  });

  test("push() after one small change uploads only its new objects", async () => {
    const pond = await newPond(join(kit.dir, "p"));
    for (let i = 0; i < 5; i++) await writeFile(pond, `/d/f${i}.bin`, bytes(100_000, i));
    const remoteDir = join(kit.dir, "remote");
    await addRemote(pond, { name: "usb", url: `file://${remoteDir}` });
    await push(pond, "usb");
    const before = new Map((await listing(remoteDir)).map((m) => [m.key, m.size]));
    const version = await writeFile(pond, "/d/new.txt", "one small change");
    const [rep] = await push(pond, "usb");
    const after = await listing(remoteDir);
    const added = after.filter((m) => !before.has(m.key));
    // The change's entry files, its commit, this push's manifest and a control segment: nothing else.
    const kinds = added.map((m) =>
      m.key.startsWith("_pond/manifests/")
        ? "manifest"
        : m.key.startsWith("_pond/control/")
          ? "control"
          : m.key === commitKey(version)
            ? "commit"
            : m.key.endsWith(".parquet")
              ? "entries"
              : m.key,
    );
    expect(kinds.filter((k) => !["manifest", "control", "commit", "entries"].includes(k))).toEqual([]);
    expect(kinds.filter((k) => k === "commit")).toHaveLength(1);
    expect(rep!.files).toBe(added.filter((m) => !m.key.startsWith("_pond/")).length);
    expect(after.filter((m) => before.has(m.key) && before.get(m.key) !== m.size)).toEqual([]);
  });

  test("push() refuses a remote that holds another pond, naming both ids", async () => {
    const a = await newPond(join(kit.dir, "a"));
    const b = await newPond(join(kit.dir, "b"));
    const url = `file://${join(kit.dir, "remote")}`;
    await addRemote(a, { name: "r", url });
    await addRemote(b, { name: "r", url });
    await push(a, "r");
    const err = await push(b, "r").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteOwnedByOtherPondError);
    expect((err as Error).message).toContain(a.id);
    expect((err as Error).message).toContain(b.id);
  });

  test("push() refuses a remote whose log went another way (another writer pushed to it)", async () => {
    const a = await newPond(join(kit.dir, "a"));
    const remoteDir = join(kit.dir, "remote");
    await addRemote(a, { name: "r", url: `file://${remoteDir}` });
    await writeFile(a, "/x", "1");
    await push(a, "r");
    // Another copy's version 2, written straight into the remote.
    await new LocalObjectStore(remoteDir).put(commitKey(2), new TextEncoder().encode('{"commitInfo":{"timestamp":1}}\n'));
    await writeFile(a, "/y", "2");
    const err = await push(a, "r").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteDivergedError);
  });

  test("a write with a remote in push mode pushes it, and a failed auto-push keeps the commit and warns", async () => {
    const pond = await newPond(join(kit.dir, "p"));
    const remoteDir = join(kit.dir, "remote");
    await addRemote(pond, { name: "auto", url: `file://${remoteDir}`, mode: "push" });
    const v1 = await writeFile(pond, "/one.txt", "1");
    expect((await listing(remoteDir)).map((m) => m.key)).toContain(commitKey(v1));

    // A remote that cannot be written: a file where its folder should be.
    const blocked = join(kit.dir, "blocked");
    await Bun.write(blocked, "not a folder");
    await addRemote(pond, { name: "broken", url: `file://${blocked}`, mode: "push" });
    const warnings: string[] = [];
    const warn = logger.warn;
    logger.warn = (event: string) => void warnings.push(event);
    let v2: number;
    try {
      v2 = await writeFile(pond, "/two.txt", "2");
    } finally {
      logger.warn = warn;
    }
    expect(await pond.seq()).toBe(v2);
    expect(warnings.join("\n")).toContain(`auto-push to remote "broken" failed; the commit (version ${v2}) is kept locally`);
    expect((await listing(remoteDir)).map((m) => m.key)).toContain(commitKey(v2));
    const status = await pondStatus(pond);
    expect(status.remotes.find((r) => r.name === "auto")?.behind).toBe(0);
    expect(status.remotes.find((r) => r.name === "broken")?.behind).toBe(v2 + 1);
  });
});

describe("push() of a rotated control log", () => {
  test("push() after a rotation sends exactly the history the remote lacks; a remote pushed before it and one pushed after read back every record", async () => {
    const pond = await newPond(join(kit.dir, "p"));
    for (let i = 0; i < 3; i++) await writeFile(pond, `/d/f${i}.txt`, `v${i}`);
    const early = join(kit.dir, "early");
    await addRemote(pond, { name: "early", url: `file://${early}` });
    await push(pond, "early");
    const pushedEnd = statSync(pond.paths.controlLog).size; // no rotation yet: the file is the history
    setConfig(pond.paths.control, "maintain.control-archive-after", "1");
    const step = await cleanup(pond, { retentionMs: 7 * 86_400_000 });
    expect(
      step.items
        .toArray()
        .filter((i) => i.action === "archived")
        .map((i) => i.key),
    ).toEqual([`control/transactions/${archiveFileName(0, pushedEnd)}`]);
    expect(readFileSync(pond.paths.controlLog, "utf8")).toBe(`{"type":"base","offset":${pushedEnd}}\n`);
    for (let i = 3; i < 5; i++) await writeFile(pond, `/d/f${i}.txt`, `v${i}`);
    await cleanup(pond, { retentionMs: 7 * 86_400_000 }); // a second archive: the lines of the last two writes
    await writeFile(pond, "/d/f5.txt", "v5");
    const local = readControl(pond.paths.controlLog);
    expect(local).toHaveLength(2 * 7); // init and 6 writes, begin and committed each
    const end = logicalEnd(pond.paths.controlLog);
    // The early remote lacks [pushedEnd, end): from the second archive and the live file, nothing before.
    const [again] = await push(pond, "early");
    expect(again!.controlBytes).toBe(end - pushedEnd);
    const late = join(kit.dir, "late");
    await addRemote(pond, { name: "late", url: `file://${late}` });
    const [first] = await push(pond, "late");
    expect(first!.controlBytes).toBe(end);
    for (const dir of [early, late]) {
      const meta = await listing(dir);
      const segments = meta.filter((m) => m.key.startsWith("_pond/control/"));
      // Contiguous segments, no byte sent twice: their sizes add up to the history's.
      expect(segments.reduce((s, m) => s + m.size, 0)).toBe(end);
      expect(await readRemoteControl(new LocalObjectStore(dir), meta)).toEqual(local);
    }
    // The late remote got one segment per archive and one for the live file.
    expect((await listing(late)).filter((m) => m.key.startsWith("_pond/control/"))).toHaveLength(3);
    // An older pond binary pushing a rotated log sends the live file whole, its base header included: not a record.
    const store = new LocalObjectStore(late);
    await store.put(`_pond/control/${"0".repeat(20)}-0190abcd-0000.jsonl`, readFileSync(pond.paths.controlLog));
    // (Its segment sorts among the others at offset 0, so only the set of records is compared.)
    const bySet = (rs: readonly unknown[]) => rs.map((r) => JSON.stringify(r)).sort();
    expect(bySet(await readRemoteControl(store, await listing(late)))).toEqual(bySet(local));
  });
});

describe("pondStatus()", () => {
  test("pondStatus() counts the versions a remote has not been pushed", async () => {
    const pond = await newPond(join(kit.dir, "p"));
    mkdirSync(join(kit.dir, "r"));
    await addRemote(pond, { name: "r", url: `file://${join(kit.dir, "r")}` });
    await push(pond, "r");
    await writeFile(pond, "/a", "a");
    await writeFile(pond, "/b", "b");
    const s = await pondStatus(pond);
    expect(s.pondId).toBe(pond.id);
    expect(s.version).toBe(2);
    expect(s.remotes[0]).toMatchObject({ name: "r", mode: "manual", behind: 2, lastPushed: { version: 0 } });
  });
});
