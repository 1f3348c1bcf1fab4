// The raw download of bench/push-restore.bench.ts, as a process of its own so that it
// runs exactly as `pond restore` does: started fresh, pinned to the same core when the
// benchmark pins, its CPU counted by the kernel. Downloads every key listed in KEYS_FILE
// (one a line) from ENDPOINT's bucket under PREFIX into TO, CONCURRENCY at once, with
// Bun's S3Client writing each body natively to its file: no hash, no fsync.
// Run: bun bench/raw-download.ts ENDPOINT BUCKET PREFIX TO KEYS_FILE CONCURRENCY
import { S3Client } from "bun";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [endpoint, bucket, prefix, to, keysFile, concurrency] = process.argv.slice(2);
const keys = readFileSync(keysFile!, "utf8").split("\n").filter(Boolean);
const client = new S3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", virtualHostedStyle: false });
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < keys.length) {
      const k = keys[next++]!;
      mkdirSync(dirname(join(to!, k)), { recursive: true });
      await Bun.write(join(to!, k), client.file(`${prefix}/${k}`));
    }
  }),
);
