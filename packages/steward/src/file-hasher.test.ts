import { expect, test } from "bun:test";
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { FileHasher } from "./file-hasher.ts";
import { randomBytes, sha256 as sha, tempFolder } from "../../../test/support/kit.ts";

test("hash() gives each file's size and sha256 when more files than threads are hashed at once", async () => {
  const sizes = [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3_000_000];
  using t = tempFolder(Object.fromEntries(sizes.map((n, i) => [`f${i}`, randomBytes(n, i + 1)])));
  const files = sizes.map((n, i) => ({ path: t.path(`f${i}`), content: randomBytes(n, i + 1) }));
  const hasher = new FileHasher(2);
  try {
    const got = await Promise.all(files.map((f) => hasher.hash(f.path)));
    expect(got).toEqual(files.map((f) => ({ size: f.content.length, sha256: sha(f.content) })));
  } finally {
    hasher.close();
  }
});

test("hash() rejects with the file's error code when the file is missing, and the thread goes on", async () => {
  using t = tempFolder({ there: "x" });
  const hasher = new FileHasher(1);
  try {
    const err = await hasher.hash(t.path("missing")).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ENOENT");
    expect((err as Error).message).toContain("missing");
    expect(await hasher.hash(t.path("there"))).toEqual({ size: 1, sha256: sha(new TextEncoder().encode("x")) });
  } finally {
    hasher.close();
  }
});

/** Threads of this process under SCHED_IDLE (policy 5: field 41 of /proc/self/task/TID/stat). */
function idleThreads(): number {
  let n = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38] === "5") n++;
  }
  return n;
}

const linux = process.platform === "linux";
const privileged = process.getuid?.() === 0;

test.skipIf(!linux)("a background hasher hashes on idle-priority threads, and hurry() brings them back to normal (root)", async () => {
  using t = tempFolder({ a: randomBytes(3_000_000, 1), b: randomBytes(2_000_000, 2) });
  // Threads of hashers closed by earlier tests end soon after; wait (bounded) until they have.
  // A lowered thread's own helper threads (the runtime's, started after it was lowered)
  // inherit its policy, so the count is compared with what it was, not with exact numbers.
  for (let i = 0; i < 100 && idleThreads() > 0; i++) await Bun.sleep(20);
  const before = idleThreads();
  const hasher = new FileHasher(2, { background: true });
  try {
    // A reply proves the thread has read its first message (which lowered it) first.
    const [a, b] = await Promise.all([hasher.hash(t.path("a")), hasher.hash(t.path("b"))]);
    expect(a).toEqual({ size: 3_000_000, sha256: sha(randomBytes(3_000_000, 1)) });
    expect(b).toEqual({ size: 2_000_000, sha256: sha(randomBytes(2_000_000, 2)) });
    const lowered = idleThreads();
    expect(lowered).toBeGreaterThanOrEqual(before + 2);
    hasher.hurry();
    const again = await Promise.all([hasher.hash(t.path("a")), hasher.hash(t.path("b"))]);
    if (privileged) {
      expect(again).toEqual([a, b]);
      // A thread goes back before its next block, so at least the one that hashed again
      // did (both hashes may go to one thread; the other stays lowered until it works).
      expect(idleThreads()).toBeLessThan(lowered);
    } else expect(again).toEqual(["abandoned", "abandoned"]);
  } finally {
    hasher.close();
  }
});

test.skipIf(!linux)("a background thread that may not go back to normal priority abandons its files after hurry()", async () => {
  using t = tempFolder({ a: randomBytes(1_500_000, 3) });
  const hasher = new FileHasher(1, { background: true, unprivileged: true });
  try {
    expect(await hasher.hash(t.path("a"))).toEqual({ size: 1_500_000, sha256: sha(randomBytes(1_500_000, 3)) });
    hasher.hurry();
    expect(await hasher.hash(t.path("a"))).toBe("abandoned");
    expect(await hasher.hash(t.path("a"))).toBe("abandoned");
  } finally {
    hasher.close();
  }
});

test("follow() hashes a file another writer is still appending to, and answers only after ended() once it has read the rest", async () => {
  using t = tempFolder({});
  const content = randomBytes(5_500_000, 7);
  const path = t.path("growing");
  const hasher = new FileHasher(1);
  try {
    // Followed before the file exists, as a download's temp file is.
    const followed = hasher.follow(path);
    let answered = false;
    void followed.digest.then(() => (answered = true));
    const out = openSync(path, "w");
    try {
      for (let at = 0; at < content.length; at += 700_000) {
        writeSync(out, content.subarray(at, at + 700_000));
        await Bun.sleep(5); // the thread reads while the file grows
      }
    } finally {
      closeSync(out);
    }
    // Whole, but the writer has not said so: no answer yet (the thread polls every few ms).
    await Bun.sleep(100);
    expect(answered).toBe(false);
    followed.ended();
    expect(await followed.digest).toEqual({ size: content.length, sha256: sha(content) });
  } finally {
    hasher.close();
  }
});

test("follow() of a file that never appears rejects with ENOENT once ended() is called", async () => {
  using t = tempFolder({});
  const hasher = new FileHasher(1);
  try {
    const followed = hasher.follow(t.path("never"));
    followed.ended();
    const err = await followed.digest.catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ENOENT");
  } finally {
    hasher.close();
  }
});
