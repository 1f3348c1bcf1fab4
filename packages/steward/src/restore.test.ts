import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalObjectStore, commitKey } from "@pond/oplog";
import { WD } from "@pond/tinyfs";
import { largeFileKey } from "@pond/tlogfs";
import { bytes, newPond, readFile, tempKit, writeFile, type Kit } from "./backup-test-kit.ts";
import {
  MirrorReadOnlyError,
  PondExistsError,
  RemoteObjectCorruptError,
  RemoteObjectMissingError,
  RemoteOwnedByOtherPondError,
  RestoreTargetError,
} from "./errors.ts";
import { Pond } from "./pond.ts";
import { pull } from "./pull.ts";
import { push } from "./push.ts";
import { addRemote, removeRemote } from "./remotes.ts";
import { CONTROL_PREFIX } from "./remote-layout.ts";
import { restore } from "./restore.ts";
import { rotateControl } from "./control-rotate.ts";
import { setConfig } from "./maintenance/pond-config.ts";
import { sha256 as sha } from "../../../test/support/kit.ts";

let kit: Kit;
beforeEach(() => {
  kit = tempKit();
});
afterEach(() => kit.cleanup());

async function backedUp(): Promise<{ pond: Pond; url: string; remoteDir: string; big: Uint8Array }> {
  const pond = await newPond(join(kit.dir, "orig"));
  const big = bytes(300_000, 7);
  await writeFile(pond, "/data/big.bin", big);
  await writeFile(pond, "/data/note.txt", "v1");
  await writeFile(pond, "/data/note.txt", "v2");
  const remoteDir = join(kit.dir, "remote");
  const url = `file://${remoteDir}`;
  await addRemote(pond, { name: "backup", url });
  await push(pond, "backup");
  return { pond, url, remoteDir, big };
}

describe("restore()", () => {
  test("restore() rebuilds the whole pond, history included, as a read-only mirror", async () => {
    const { pond, url, big } = await backedUp();
    const rep = await restore(url, join(kit.dir, "copy"));
    expect(rep.pondId).toBe(pond.id);
    expect(rep.mirror).toBe(true);
    const copy = Pond.open(join(kit.dir, "copy"));
    expect(copy.id).toBe(pond.id);
    expect(copy.identity.mirrorOf).toBe("origin");
    expect(sha(await readFile(copy, "/data/big.bin"))).toBe(sha(big));
    expect(new TextDecoder().decode(await readFile(copy, "/data/note.txt"))).toBe("v2");
    const strip = (p: Pond) => p.history().map((t) => ({ ...t }));
    expect(strip(copy)).toEqual(strip(pond));
    // Time travel works too: the old version of the note is there.
    expect(new TextDecoder().decode(await new WD(await copy.view({ seq: 2 })).readAll("/data/note.txt"))).toBe("v1");
    const err = await writeFile(copy, "/x", "no").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MirrorReadOnlyError);
  });

  test("restore() with writable gives a pond that pushes to the same remote", async () => {
    const { url, remoteDir } = await backedUp();
    await restore(url, join(kit.dir, "copy"), { writable: true });
    const copy = Pond.open(join(kit.dir, "copy"));
    expect(copy.identity.mirrorOf).toBeUndefined();
    const v = await writeFile(copy, "/after.txt", "written on the new machine");
    const [rep] = await push(copy, "origin");
    expect(rep!.toVersion).toBe(v);
    expect(existsSync(join(remoteDir, commitKey(v)))).toBe(true);
  });

  test("restore() refuses a folder that holds a pond, or is not empty", async () => {
    const { url } = await backedUp();
    await newPond(join(kit.dir, "other"));
    await expect(restore(url, join(kit.dir, "other"))).rejects.toBeInstanceOf(PondExistsError);
    mkdirSync(join(kit.dir, "full"));
    writeFileSync(join(kit.dir, "full", "x"), "x");
    await expect(restore(url, join(kit.dir, "full"))).rejects.toBeInstanceOf(RestoreTargetError);
  });

  test("restore() fails naming a large file changed by hand, and leaves no folder behind", async () => {
    const { url, remoteDir, big } = await backedUp();
    const key = largeFileKey(sha(big));
    const file = join(remoteDir, key);
    const tampered = readFileSync(file);
    tampered[1000] ^= 0xff;
    writeFileSync(file, tampered);
    const err = await restore(url, join(kit.dir, "copy")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(key);
    expect(existsSync(join(kit.dir, "copy"))).toBe(false);
    expect(readdirSync(kit.dir).filter((n) => n.includes("restore"))).toEqual([]);
  });

  test("restore() fails naming a large file streamed to disk (over 1 MiB) that was changed by hand, leaving no temp file", async () => {
    const pond = await newPond(join(kit.dir, "orig"));
    const huge = bytes(1_500_000, 11);
    await writeFile(pond, "/huge.bin", huge);
    const remoteDir = join(kit.dir, "remote");
    await addRemote(pond, { name: "b", url: `file://${remoteDir}` });
    await push(pond, "b");
    const key = largeFileKey(sha(huge));
    const file = join(remoteDir, key);
    const b = readFileSync(file);
    b[b.length - 1] ^= 0x01;
    writeFileSync(file, b);
    const err = await restore(`file://${remoteDir}`, join(kit.dir, "copy")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(key);
    expect(readdirSync(kit.dir).sort()).toEqual(["orig", "remote"]);
    // Undamaged, the same file restores byte for byte.
    b[b.length - 1] ^= 0x01;
    writeFileSync(file, b);
    await restore(`file://${remoteDir}`, join(kit.dir, "copy"));
    expect(sha(await readFile(Pond.open(join(kit.dir, "copy")), "/huge.bin"))).toBe(sha(huge));
    expect(readdirSync(join(kit.dir, "copy", "data", "_large_files")).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("restore() fails naming an entry file changed by hand (same size), using the push manifest", async () => {
    const { url, remoteDir } = await backedUp();
    const part = (await Array.fromAsync(new LocalObjectStore(remoteDir).list(""))).find((m) => m.key.endsWith(".parquet"))!;
    const file = join(remoteDir, part.key);
    const b = readFileSync(file);
    b[Math.floor(b.length / 2)] ^= 0x01;
    writeFileSync(file, b);
    const err = await restore(url, join(kit.dir, "copy")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectCorruptError);
    expect((err as Error).message).toContain(part.key);
  });

  test("restore() fails naming a large file that is missing from the remote", async () => {
    const { url, remoteDir, big } = await backedUp();
    const key = largeFileKey(sha(big));
    await new LocalObjectStore(remoteDir).delete(key);
    const err = await restore(url, join(kit.dir, "copy")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteObjectMissingError);
    expect((err as Error).message).toContain(key);
  });

  test("restore() rebuilds history from the commits when the remote lacks the newest control segment", async () => {
    const { pond, url, remoteDir } = await backedUp();
    await writeFile(pond, "/late.txt", "late");
    await push(pond, "backup");
    const store = new LocalObjectStore(remoteDir);
    const segs = (await Array.fromAsync(store.list(CONTROL_PREFIX))).map((m) => m.key).sort();
    await store.delete(segs[segs.length - 1]!);
    await restore(url, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    const commands = (p: Pond) =>
      p
        .history()
        .filter((t) => t.status === "committed")
        .map((t) => [t.seq, t.command.join(" ")]);
    expect(commands(copy)).toEqual(commands(pond));
  });
});

describe("pull()", () => {
  test("pull() brings a mirror up to the remote's tip", async () => {
    const { pond, url } = await backedUp();
    await restore(url, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    await writeFile(pond, "/data/more.bin", bytes(100_000, 9));
    await push(pond, "backup");
    const rep = await pull(copy, undefined);
    expect(rep.toVersion).toBe(await pond.seq());
    expect(sha(await readFile(copy, "/data/more.bin"))).toBe(sha(bytes(100_000, 9)));
    expect(copy.history().map((t) => t.txnId)).toEqual(pond.history().map((t) => t.txnId));
    const again = await pull(copy, "origin");
    expect(again.files).toBe(0);
  });

  test("pull() into a pond whose control log has archives keeps them and rewrites only the live file, from its base", async () => {
    const { pond, url } = await backedUp();
    await restore(url, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    const archived = rotateControl(copy.paths.controlLog, { thresholdBytes: 1 }).archived!;
    const archiveDir = join(copy.paths.control, "transactions");
    const before = readFileSync(join(archiveDir, archived.file));
    await writeFile(pond, "/data/later.txt", "later");
    await push(pond, "backup");
    await pull(copy, undefined);
    expect(readdirSync(archiveDir)).toEqual([archived.file]);
    expect(readFileSync(join(archiveDir, archived.file))).toEqual(before);
    expect(readFileSync(copy.paths.controlLog, "utf8").split("\n")[0]).toBe(`{"type":"base","offset":${archived.to}}`);
    expect(copy.history()).toEqual(pond.history());
    // Over its threshold, a pull archives the mirror's live file (a mirror is never maintained otherwise).
    setConfig(copy.paths.control, "maintain.control-archive-after", "1");
    await writeFile(pond, "/data/last.txt", "last");
    await push(pond, "backup");
    await pull(copy, undefined);
    expect(readdirSync(archiveDir)).toHaveLength(2);
    expect(readFileSync(copy.paths.controlLog, "utf8")).toMatch(/^\{"type":"base","offset":\d+\}\n$/);
    expect(copy.history()).toEqual(pond.history());
  });

  test("pull() refuses a remote that now holds a different pond, naming both ids", async () => {
    const { url, remoteDir } = await backedUp();
    await restore(url, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    // The remote folder is replaced by another pond's backup.
    const other = await newPond(join(kit.dir, "other"));
    rmSync(remoteDir, { recursive: true });
    await addRemote(other, { name: "r", url });
    await push(other, "r");
    const err = await pull(copy, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteOwnedByOtherPondError);
    expect((err as Error).message).toContain(other.id);
    expect((err as Error).message).toContain(copy.id);
  });

  test("removing the remote a mirror follows makes it writable", async () => {
    const { url } = await backedUp();
    await restore(url, join(kit.dir, "copy"));
    const copy = Pond.open(join(kit.dir, "copy"));
    const { wasMirror } = await removeRemote(copy, "origin");
    expect(wasMirror).toBe(true);
    await writeFile(Pond.open(join(kit.dir, "copy")), "/now-writable", "yes");
  });
});
