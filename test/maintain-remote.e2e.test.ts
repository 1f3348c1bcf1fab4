// Issue 15, remotes: maintenance is local. A mirror follows its remote with `pond pull` after
// the source expired, cleaned up (a removed file's payload deleted) and pushed; a remote added
// only after the cleanup takes what is left, verifies clean, and a pond restored from it is whole.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, pond, pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-remote-");
});
afterAll(() => tmp?.cleanup());

const VEGA = join(FIXTURES, "timeseries/vega-datasets");
const sha = (f: string) => new Bun.CryptoHasher("sha256").update(readFileSync(f)).digest("hex");

describe("maintenance and remotes", () => {
  test("a mirror pulls after the source's expire, cleanup and push, and keeps the full history", async () => {
    const P = { pond: join(tmp.dir, "src") };
    const remote = `file://${join(tmp.dir, "remote1")}`;
    await pondOk(["init"], P);
    await pondOk(["remote", "add", "b", remote], P);
    await pondOk(["copy", `host://${join(VEGA, "weather.csv")}`, "/big.csv"], P);
    await pondOk(["push", "b"], P);
    const mirror = { pond: join(tmp.dir, "mirror") };
    await pondOk(["restore", remote, "--pond", mirror.pond]);
    await pondOk(["rm", "/big.csv"], P);
    writeFileSync(join(tmp.dir, "n.txt"), "new");
    await pondOk(["copy", `host://${join(tmp.dir, "n.txt")}`, "/n.txt"], P);
    await pondOk(["push", "b"], P);
    const payload = join(P.pond, "data/_large_files", `sha256=${sha(join(VEGA, "weather.csv"))}`);
    expect(existsSync(payload)).toBe(true);
    await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    expect(existsSync(payload)).toBe(false); // the removed file's payload, once no unexpired snapshot reaches it
    expect((await pond(["verify", "b"], P)).code).toBe(0);
    // Maintenance refuses a mirror (read-only), and pull brings it up to the remote's tip.
    const refused = await pond(["maintain", "cleanup"], mirror);
    expect(refused.code).not.toBe(0);
    await pondOk(["pull"], mirror);
    expect((await pondOk(["cat", "/n.txt"], mirror)).stdout).toBe("new");
    const old = await pondOk(["cat", "/big.csv", "--as-of", "1"], mirror);
    expect(sha(join(VEGA, "weather.csv"))).toBe(new Bun.CryptoHasher("sha256").update(old.stdoutBytes).digest("hex"));
    expect((await pondOk(["fsck"], mirror)).stdout).toContain("whole");
  }, 120_000);

  test("a remote added after cleanup takes what is left; verify is clean and a pond restored from it is whole", async () => {
    const P = { pond: join(tmp.dir, "late") };
    await pondOk(["init"], P);
    await pondOk(["mkdir", "/d"], P);
    await pondOk(["copy", `host://${join(VEGA, "weather.csv")}`, "/d/big.csv"], P);
    await pondOk(["rm", "/d/big.csv"], P);
    writeFileSync(join(tmp.dir, "k.txt"), "kept");
    await pondOk(["copy", `host://${join(tmp.dir, "k.txt")}`, "/d/k.txt"], P);
    await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    const remote = `file://${join(tmp.dir, "remote2")}`;
    await pondOk(["remote", "add", "late", remote], P);
    await pondOk(["push", "late"], P);
    expect((await pond(["verify", "late"], P)).code).toBe(0);
    const restored = { pond: join(tmp.dir, "restored") };
    await pondOk(["restore", remote, "--pond", restored.pond]);
    const fsck = await pond(["fsck"], restored);
    expect({ code: fsck.code, out: fsck.stdout }).toEqual({ code: 0, out: expect.stringContaining("whole") });
    expect((await pondOk(["cat", "/d/k.txt"], restored)).stdout).toBe("kept");
  }, 120_000);
});
