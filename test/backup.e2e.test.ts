// Issue 5: backup to S3, restore, verify and mirrors, through the real binary against a
// real S3 server (s3rver on 127.0.0.1, see support/s3-server.ts).
import { afterAll, beforeAll, describe, expect, test as bunTest } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalObjectStore, readCommit, readEntryFile, type AddAction } from "@pond/oplog";
import { largeFileKey } from "@pond/tlogfs";
import { startS3Server, type S3Server } from "./support/s3-server.ts";
import { POND_BIN, pond, pondOk, tempDir, type RunResult } from "./support/pond-cli.ts";
import { seededRandom, sha256 as sha } from "./support/kit.ts";

/** Every test here runs the binary many times; 5 s (bun's default) is too tight on a busy machine. */
const TIMEOUT = 60_000;
const test = (name: string, fn: () => Promise<void>) => bunTest(name, fn, TIMEOUT);

let s3: S3Server;
let tmp: ReturnType<typeof tempDir>;
let host: string;
let n = 0;

beforeAll(async () => {
  s3 = await startS3Server();
  tmp = tempDir("pond-backup-e2e-");
  host = join(tmp.dir, "host");
  await Bun.write(join(host, ".keep"), "");
}, TIMEOUT);
afterAll(async () => {
  await s3?.close();
  tmp?.cleanup();
});

/** Runs pond with the server's credentials in the environment (plus `env`). */
function p(args: string[], pondDir?: string, env: Record<string, string> = {}): Promise<RunResult> {
  return pond(args, { pond: pondDir, env: { ...s3.env, ...env } });
}
function ok(args: string[], pondDir?: string, env: Record<string, string> = {}): Promise<RunResult> {
  return pondOk(args, { pond: pondDir, env: { ...s3.env, ...env } });
}
const payloads = seededRandom("backup e2e payloads");
function random(nBytes: number): Uint8Array {
  return payloads.bytes(nBytes);
}
function hostFile(name: string, content: Uint8Array | string): string {
  const f = join(host, name);
  writeFileSync(f, content);
  return `host://${f}`;
}
async function newPondDir(): Promise<string> {
  const dir = join(tmp.dir, `pond${++n}`);
  await ok(["init"], dir);
  return dir;
}
/** The remote's objects under `prefix/` with sizes, read from the server's folder. */
function remoteObjects(server: S3Server, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of server.keys()) if (k.startsWith(prefix + "/")) out.set(k.slice(prefix.length + 1), statSync(server.objectFile(k)).size);
  return out;
}

describe("push and restore", () => {
  let orig: string;
  let copy: string;
  const big = random(1_500_000);
  const files: [string, Uint8Array][] = [
    ["/data/big.bin", big],
    ["/data/notes.txt", new TextEncoder().encode("field notes\nline 2\n")],
    ["/data/empty", new Uint8Array()],
  ];

  beforeAll(async () => {
    orig = await newPondDir();
    await ok(["mkdir", "-p", "/data"], orig);
    for (const [path, bytes] of files) await ok(["copy", hostFile(path.slice(6), bytes), path], orig);
    // A table and a series with two versions (the tables issue's features).
    writeFileSync(join(host, "sites.csv"), "site,name\nA,Alpha\nB,Bravo\n");
    await ok(["copy", `host+csv://${join(host, "sites.csv")}`, "/sites.table"], orig);
    writeFileSync(join(host, "s1.csv"), "timestamp,site,temp\n2024-01-01T00:00:00Z,A,1.5\n2024-01-02T00:00:00Z,B,2.5\n");
    writeFileSync(join(host, "s2.csv"), "timestamp,site,temp,extra\n2024-02-01T00:00:00Z,A,3.5,x\n");
    await ok(["copy", `host+series+csv://${join(host, "s1.csv")}`, "/temps.series"], orig);
    await ok(["copy", `host+series+csv://${join(host, "s2.csv")}`, "/temps.series"], orig);
    await ok(["remote", "add", "backup", "s3://pond-test/orig", "--endpoint", s3.endpoint], orig);
    await ok(["push", "backup"], orig);
    copy = join(tmp.dir, "restored");
    await ok(["restore", "s3://pond-test/orig", "--endpoint", s3.endpoint], copy);
  }, TIMEOUT);

  test("every file is byte-identical after restore (cat of each)", async () => {
    for (const [path, bytes] of files) {
      const out = await ok(["cat", path], copy);
      expect(sha(out.stdoutBytes)).toBe(sha(bytes));
    }
  });

  test("tables and series give the same answers after restore", async () => {
    for (const args of [
      ["cat", "/sites.table", "--format", "csv"],
      ["cat", "/temps.series", "--format", "csv"],
      [
        "query",
        "SELECT site, count(*)::INT AS n, sum(temp) AS t, max(extra) AS e FROM '/temps.series' JOIN '/sites.table' USING (site) GROUP BY site ORDER BY site",
        "--format",
        "json",
      ],
      ["describe", "/temps.series", "--format", "json"],
    ]) {
      const a = await ok(args, orig);
      const b = await ok(args, copy);
      expect(b.stdout).toBe(a.stdout);
      expect(a.stdout.length).toBeGreaterThan(10);
    }
  });

  test("pond log and pond show list the same history after restore", async () => {
    expect((await ok(["log", "--format", "json"], copy)).stdout).toBe((await ok(["log", "--format", "json"], orig)).stdout);
    expect((await ok(["show", "--format", "json"], copy)).stdout).toBe((await ok(["show", "--format", "json"], orig)).stdout);
    const asOf = await ok(["list", "/**", "--as-of", "2"], copy);
    expect(asOf.stdout).toBe((await ok(["list", "/**", "--as-of", "2"], orig)).stdout);
  });

  test("verify is clean on both sides, quick and --deep", async () => {
    for (const dir of [orig, copy]) {
      const r = await ok(["verify", "--deep"], dir);
      expect(r.stdout).toContain("Clean");
      expect(r.stdout).not.toContain("WRONG");
    }
    const json = JSON.parse((await ok(["verify", "backup", "--format", "json"], orig)).stdout);
    expect(json.wrong).toEqual([]);
    expect(json.localTip).toBe(json.remoteTip);
  });

  test("a restored pond is a read-only mirror, and pull brings it up to the remote's tip", async () => {
    const w = await p(["mkdir", "/not-allowed"], copy);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain("read-only mirror");
    expect(w.stderr).toContain("pond pull");
    const later = random(200_000);
    await ok(["copy", hostFile("later.bin", later), "/data/later.bin"], orig);
    await ok(["push"], orig);
    const pulled = await ok(["pull"], copy);
    expect(pulled.stdout).toContain("Pulled");
    expect(sha((await ok(["cat", "/data/later.bin"], copy)).stdoutBytes)).toBe(sha(later));
    expect((await ok(["log", "--format", "json"], copy)).stdout).toBe((await ok(["log", "--format", "json"], orig)).stdout);
    expect((await ok(["pull", "origin"], copy)).stdout).toContain("Up to date");
    const status = await ok(["status"], copy);
    expect(status.stdout).toContain("mirror");
    expect(status.stdout).toContain((await ok(["status", "--format", "json"], orig)).stdout.match(/"pondId": "([^"]+)"/)![1]!);
  });

  test("restore refuses a folder that already holds a pond", async () => {
    const r = await p(["restore", "s3://pond-test/orig", "--endpoint", s3.endpoint], orig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("already holds a pond");
  });

  test("push after one small change uploads only the new objects: at most 2x the change and its log entry", async () => {
    const localBefore = new Map((await Array.fromAsync(new LocalObjectStore(join(orig, "data")).list(""))).map((m) => [m.key, m.size]));
    const remoteBefore = remoteObjects(s3, "orig");
    await ok(["copy", hostFile("tiny.txt", "one more line of notes\n"), "/data/tiny.txt"], orig);
    const localAfter = await Array.fromAsync(new LocalObjectStore(join(orig, "data")).list(""));
    const change = localAfter.filter((m) => !localBefore.has(m.key)).reduce((s, m) => s + m.size, 0);
    const report = JSON.parse((await ok(["push", "backup", "--format", "json"], orig)).stdout)[0];
    const remoteAfter = remoteObjects(s3, "orig");
    const sent = [...remoteAfter].filter(([k, size]) => remoteBefore.get(k) !== size).reduce((s, [, size]) => s + size, 0);
    expect(change).toBeGreaterThan(0);
    expect(report.bytes).toBeLessThanOrEqual(change);
    expect(sent).toBeLessThanOrEqual(2 * change);
    // Nothing that was there was sent again.
    for (const [k, size] of remoteBefore) expect(remoteAfter.get(k)).toBe(size);
  });

  test("a second pond cannot push into this pond's remote: both ids in the message", async () => {
    const other = await newPondDir();
    await ok(["remote", "add", "r", "s3://pond-test/orig", "--endpoint", s3.endpoint], other);
    const r = await p(["push", "r"], other);
    expect(r.code).toBe(1);
    const ids = [orig, other].map((d) => JSON.parse(readFileSync(join(d, "control", "pond.json"), "utf8")).pondId as string);
    expect(r.stderr).toContain(ids[0]!);
    expect(r.stderr).toContain(ids[1]!);
  });
});

describe("a remote object changed by hand", () => {
  test("verify --deep and restore fail and name it", async () => {
    const dir = await newPondDir();
    const payload = random(120_000);
    await ok(["copy", hostFile("t.bin", payload), "/t.bin"], dir);
    await ok(["remote", "add", "b", "s3://pond-test/tamper", "--endpoint", s3.endpoint], dir);
    await ok(["push", "b"], dir);
    const key = largeFileKey(sha(payload));
    const file = s3.objectFile(`tamper/${key}`);
    const bytes = readFileSync(file);
    bytes[5000] ^= 0x55;
    writeFileSync(file, bytes);

    expect((await ok(["verify", "b"], dir)).stdout).toContain("Clean"); // same size: only re-hashing sees it
    const v = await p(["verify", "b", "--deep"], dir);
    expect(v.code).toBe(4);
    expect(v.stdout).toContain(`WRONG   ${key}`);
    const target = join(tmp.dir, "tampered-restore");
    const r = await p(["restore", "s3://pond-test/tamper", "--endpoint", s3.endpoint], target);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(key);
    expect(existsSync(target)).toBe(false);
  });
  test("a large object (downloaded to a temp file, hashed in the background) changed by hand: restore fails naming it, leaves no pond and no temp folder", async () => {
    const dir = await newPondDir();
    const payloads = [random(3_000_000), random(2_500_000)];
    await ok(["copy", hostFile("l1.bin", payloads[0]!), "/l1.bin"], dir);
    await ok(["copy", hostFile("l2.bin", payloads[1]!), "/l2.bin"], dir);
    await ok(["remote", "add", "b", "s3://pond-test/tamper-large", "--endpoint", s3.endpoint], dir);
    await ok(["push", "b"], dir);
    const key = largeFileKey(sha(payloads[0]!));
    const file = s3.objectFile(`tamper-large/${key}`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0x01; // the last byte: the hash must have read it all
    writeFileSync(file, bytes);

    const parent = join(tmp.dir, "large-restores");
    mkdirSync(parent);
    const target = join(parent, "tampered");
    const r = await p(["restore", "s3://pond-test/tamper-large", "--endpoint", s3.endpoint], target);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(key);
    expect(r.stderr).toContain("hashes to");
    expect(readdirSync(parent)).toEqual([]); // neither the pond nor its hidden temp folder

    // The untouched object alone restores: put the byte back and the same command succeeds.
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(file, bytes);
    await ok(["restore", "s3://pond-test/tamper-large", "--endpoint", s3.endpoint], target);
    expect(readdirSync(parent)).toEqual(["tampered"]);
    expect(sha((await ok(["cat", "/l1.bin"], target)).stdoutBytes)).toBe(sha(payloads[0]!));
  });
});

describe("secrets", () => {
  test("a literal secret on the command line is refused, and says how to use a reference", async () => {
    const dir = await newPondDir();
    const literal = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    for (const opt of ["--secret-access-key", "--access-key-id", "--session-token"]) {
      const r = await p(["remote", "add", "x", "s3://pond-test/x", "--endpoint", s3.endpoint, opt, literal], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("${env:");
      expect(r.stderr + r.stdout).not.toContain(literal);
    }
    expect(existsSync(join(dir, "control", "remotes.json"))).toBe(false);
    const restore = await p(["restore", "s3://pond-test/x", "--secret-access-key", literal], join(tmp.dir, "never"));
    expect(restore.code).toBe(2);
    expect(restore.stderr).not.toContain(literal);
  });

  test("${env:NAME} references are stored, resolved at use, and no value appears in any output or log line", async () => {
    const dir = await newPondDir();
    const secret = "s3cr3t-VALUE-never-printed";
    const env = { BK_ID: "S3RVER", BK_SECRET: secret, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", POND_LOG: "debug" };
    const outputs: RunResult[] = [];
    outputs.push(
      await ok(
        [
          "remote",
          "add",
          "s",
          "s3://pond-test/secrets",
          "--endpoint",
          s3.endpoint,
          "--access-key-id",
          "${env:BK_ID}",
          "--secret-access-key",
          "${env:BK_SECRET}",
          "--mode",
          "push",
        ],
        dir,
        env,
      ),
    );
    outputs.push(await ok(["mkdir", "/auto"], dir, env)); // auto-push with the references
    outputs.push(await ok(["push", "s"], dir, env));
    outputs.push(await ok(["remote", "list"], dir, env));
    outputs.push(await ok(["remote", "list", "--format", "json"], dir, env));
    outputs.push(await ok(["status"], dir, env));
    outputs.push(await ok(["verify", "s", "--deep"], dir, env));
    // A wrong key id through a reference: refused, and neither value is echoed.
    const wrong = await p(["push", "s"], dir, { ...env, BK_ID: "AKIAWRONGKEYID0000" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the credentials");
    outputs.push(wrong);
    const unset = await p(["push", "s"], dir, { ...env, BK_SECRET: "" });
    expect(unset.stderr).toContain("BK_SECRET");
    outputs.push(unset);
    for (const o of outputs) {
      expect(o.stdout + o.stderr).not.toContain(secret);
      expect(o.stdout + o.stderr).not.toContain("AKIAWRONGKEYID0000");
    }
    const stored = readFileSync(join(dir, "control", "remotes.json"), "utf8");
    expect(stored).toContain("${env:BK_SECRET}");
    expect(stored).not.toContain(secret);
    for (const f of readdirSync(join(dir, "control"))) expect(readFileSync(join(dir, "control", f), "utf8")).not.toContain(secret);
  });
});

describe("failures are clear and quick", () => {
  test("an unreachable endpoint fails with a clear error in seconds", async () => {
    const dir = await newPondDir();
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    await ok(["remote", "add", "dead", "s3://pond-test/dead", "--endpoint", `http://127.0.0.1:${port}`], dir);
    const t0 = Date.now();
    const r = await p(["push", "dead"], dir);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot reach s3://pond-test/dead at http://127.0.0.1:${port}`);
    expect(r.stderr).not.toContain("this is a bug");
  });

  test("wrong credentials fail with a clear error in seconds", async () => {
    const dir = await newPondDir();
    await ok(["remote", "add", "b", "s3://pond-test/creds", "--endpoint", s3.endpoint], dir);
    const t0 = Date.now();
    const r = await p(["push", "b"], dir, { AWS_ACCESS_KEY_ID: "NOTAKEY", AWS_SECRET_ACCESS_KEY: "nope" });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused the credentials (InvalidAccessKeyId)");
    const none = await p(["push", "b"], dir, { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("No credentials");
  });
});

describe("faults with a server that stops", () => {
  let srv: S3Server;
  beforeAll(async () => {
    srv = await startS3Server({ bucket: "faults" });
  }, TIMEOUT);
  afterAll(async () => {
    await srv?.close();
  });

  /** For each data log version of the pond, every object it needs (entry files and their large files). */
  async function needsByVersion(pondDir: string): Promise<Map<string, Set<string>>> {
    const store = new LocalObjectStore(join(pondDir, "data"));
    const out = new Map<string, Set<string>>();
    const all = new Set<string>();
    for (let v = 0; ; v++) {
      let actions: Awaited<ReturnType<typeof readCommit>>;
      try {
        actions = await readCommit(store, v);
      } catch {
        break;
      }
      for (const a of actions) {
        if (!("add" in a)) continue;
        const add = a.add as AddAction;
        all.add(decodeURIComponent(add.path));
        for (const r of await readEntryFile(store, add)) if (r.content === null && r.size > 0) all.add(largeFileKey(r.sha256));
      }
      out.set(`_delta_log/${String(v).padStart(20, "0")}.json`, new Set(all));
    }
    return out;
  }

  /** Throws if the remote holds a commit whose files are not all there. */
  function checkConsistent(prefix: string, needs: Map<string, Set<string>>): void {
    const keys = new Set(
      srv
        .keys()
        .filter((k) => k.startsWith(prefix + "/"))
        .map((k) => k.slice(prefix.length + 1)),
    );
    for (const [commit, need] of needs) {
      if (!keys.has(commit)) continue;
      for (const k of need) if (!keys.has(k)) throw new Error(`the remote holds ${commit} but not ${k}`);
    }
  }

  /** Runs a push, checking the remote's consistency every few ms while it runs; `onFirstPayload` fires once. */
  async function watchedPush(dir: string, prefix: string, needs: Map<string, Set<string>>, onFirstPayload?: () => Promise<void>) {
    const child = Bun.spawn([POND_BIN, "push"], { env: { ...(process.env as Record<string, string>), ...srv.env, POND: dir }, stdout: "pipe", stderr: "pipe" });
    let fired = false;
    let checks = 0;
    let exited = false;
    const done = child.exited.then(() => (exited = true));
    while (!exited) {
      checkConsistent(prefix, needs);
      checks++;
      if (onFirstPayload && !fired && srv.keys().some((k) => k.startsWith(`${prefix}/_large_files/`))) {
        fired = true;
        await onFirstPayload();
      }
      await Bun.sleep(3);
    }
    await done;
    checkConsistent(prefix, needs);
    return { code: child.exitCode!, stderr: await new Response(child.stderr).text(), checks, fired };
  }

  test("the server stops in the middle of a push: a clear error; once it is back, push completes and verify is clean", async () => {
    const dir = await newPondDir();
    await ok(["mkdir", "/big"], dir);
    for (let t = 0; t < 4; t++) {
      const sources = Array.from({ length: 4 }, (_, i) => hostFile(`f${t}-${i}.bin`, random(1_200_000)));
      await ok(["copy", ...sources, "/big"], dir);
    }
    await pondOk(["remote", "add", "b", "s3://faults/mid", "--endpoint", srv.endpoint], { pond: dir });
    const needs = await needsByVersion(dir);

    const first = await watchedPush(dir, "mid", needs, () => srv.stop());
    expect(first.fired).toBe(true);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/Cannot reach s3:\/\/faults\/mid at http:\/\/127\.0\.0\.1:\d+: (connection refused|the connection was closed)/);
    expect(first.checks).toBeGreaterThan(1);

    await srv.start();
    const second = await watchedPush(dir, "mid", needs);
    expect(second.code).toBe(0);
    const v = await pondOk(["verify", "b", "--deep"], { pond: dir, env: srv.env });
    expect(v.stdout).toContain("Clean");
  });

  test("a failed auto-push leaves the local commit, says so, and the next push catches up", async () => {
    const dir = await newPondDir();
    const env = srv.env;
    await pondOk(["remote", "add", "auto", "s3://faults/auto", "--endpoint", srv.endpoint, "--mode", "push"], { pond: dir, env });
    await pondOk(["mkdir", "/a"], { pond: dir, env });
    expect(srv.keys()).toContain("auto/_delta_log/00000000000000000001.json");
    await srv.stop();
    const r = await pondOk(["mkdir", "/b"], { pond: dir, env });
    expect(r.stderr).toContain('auto-push to remote "auto" failed; the commit (version 2) is kept locally');
    expect(r.stderr).toContain("pond push auto");
    expect((await pondOk(["list", "/"], { pond: dir, env })).stdout).toContain("/b");
    expect((await pondOk(["status"], { pond: dir, env })).stdout).toContain("1 version(s) behind");
    await srv.start();
    await pondOk(["push"], { pond: dir, env });
    expect(srv.keys()).toContain("auto/_delta_log/00000000000000000002.json");
    expect((await pondOk(["verify"], { pond: dir, env })).stdout).toContain("Clean");
  });

  test("a server that accepts connections and never answers fails within POND_REMOTE_TIMEOUT, not a hang", async () => {
    const dir = await newPondDir();
    await pondOk(["remote", "add", "b", "s3://faults/hang", "--endpoint", srv.endpoint], { pond: dir });
    srv.pause();
    try {
      const t0 = Date.now();
      const r = await pond(["push", "b"], { pond: dir, env: { ...srv.env, POND_REMOTE_TIMEOUT: "1.5" } });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Timed out after 1.5 s");
    } finally {
      srv.resume();
    }
  });
});

describe("file:/// remotes", () => {
  test("push, restore and verify work the same way with a folder", async () => {
    const dir = await newPondDir();
    const payload = random(90_000);
    await ok(["copy", hostFile("f.bin", payload), "/f.bin"], dir);
    const folder = join(tmp.dir, "usb");
    await ok(["remote", "add", "usb", `file://${folder}`], dir);
    await ok(["push", "usb"], dir);
    expect(existsSync(join(folder, "_pond", "identity.json"))).toBe(true);
    const restored = join(tmp.dir, "from-usb");
    await ok(["restore", `file://${folder}`, "--writable"], restored);
    expect(sha((await ok(["cat", "/f.bin"], restored)).stdoutBytes)).toBe(sha(payload));
    expect((await ok(["verify", "--deep"], restored)).stdout).toContain("Clean");
    // --writable: the restored pond writes and pushes to the same folder.
    await ok(["mkdir", "/new"], restored);
    await ok(["push"], restored);
    expect((await ok(["verify", "usb"], dir)).stdout).toContain("behind");
  });
});
