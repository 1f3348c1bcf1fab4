// Runs s3rver (a fake S3 server) for the tests: `node --openssl-legacy-provider
// s3rver-child.cjs DIR PORT BUCKET [--conditional-writes]`. Prints one line
// `listening <port>` on stdout when it accepts requests. Started by s3-server.ts.
//
// Two changes make s3rver behave like S3 where Pond relies on S3's guarantees:
// - A PUT is atomic: s3rver writes the body straight into the object's file, so a
//   reader could see half an object and a PUT cut off mid-body (the fault tests stop
//   the server during a push) would leave a truncated object. S3 never publishes a
//   partial object. Here the body goes to a temp file, is checked against its
//   Content-Length, and is renamed into place.
// - With --conditional-writes, `If-None-Match: *` on a PUT is honoured (412 when the
//   key exists), as S3, R2 and MinIO do. Without it the header is ignored, like older
//   servers: the client must then emulate put-if-absent (see s3-store.ts).
"use strict";
const path = require("node:path");
const http = require("node:http");
const fs = require("node:fs");
const crypto = require("node:crypto");
const { Transform } = require("node:stream");

const [dir, portArg, bucket, ...flags] = process.argv.slice(2);
const s3rverDir = path.dirname(require.resolve("s3rver/package.json"));
const S3rver = require("s3rver");
const FilesystemStore = require(path.join(s3rverDir, "lib/stores/filesystem.js"));
const objectCtrl = require(path.join(s3rverDir, "lib/controllers/object.js"));
const S3Error = require(path.join(s3rverDir, "lib/models/error.js"));
const S3Object = require(path.join(s3rverDir, "lib/models/object.js"));

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, "object");
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const tmp = path.join(path.dirname(objectPath), `.tmp-${crypto.randomBytes(8).toString("hex")}`);
  const fromRequest = object.content instanceof http.IncomingMessage;
  let expected;
  if (fromRequest) {
    const h = object.content.headers;
    const declared = h["x-amz-decoded-content-length"] ?? h["content-length"];
    if (declared !== undefined) expected = Number(declared);
  }
  try {
    const [size, md5] = await new Promise((resolve, reject) => {
      const md5Context = crypto.createHash("md5");
      let total = 0;
      const out = fs.createWriteStream(tmp);
      out.on("error", reject);
      if (Buffer.isBuffer(object.content)) {
        md5Context.update(object.content);
        out.end(object.content, () => resolve([object.content.length, md5Context.digest("hex")]));
        return;
      }
      object.content.on("error", reject);
      object.content.on("aborted", () => reject(new Error("request aborted")));
      object.content
        .pipe(new Transform({ transform(chunk, enc, cb) { md5Context.update(chunk); total += chunk.length; cb(null, chunk); } }))
        .pipe(out)
        .on("finish", () => resolve([total, md5Context.digest("hex")]));
    });
    if (expected !== undefined && size !== expected) throw new Error(`body has ${size} bytes, Content-Length said ${expected}`);
    await fs.promises.rename(tmp, objectPath);
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
};

// Metadata and md5 files are rewritten in place too; a GET racing an overwrite could
// read half a JSON file (an InternalError). Write them atomically as well.
FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const { pick, pickBy } = require("lodash");
  const json = {
    ...pick(metadata, S3Object.ALLOWED_METADATA),
    ...pickBy(metadata, (value, k) => k.startsWith("x-amz-meta-")),
  };
  const writeAtomic = async (file, text) => {
    const tmp = path.join(path.dirname(file), `.tmp-${crypto.randomBytes(8).toString("hex")}`);
    await fs.promises.writeFile(tmp, text);
    await fs.promises.rename(tmp, file);
  };
  if (md5) await writeAtomic(this.getResourcePath(bucket, key, "object.md5"), md5);
  await writeAtomic(this.getResourcePath(bucket, key, "metadata.json"), JSON.stringify(json, null, 2));
};

// s3rver lists in folder-walk order ("a/x" before "a-b/y") and pages by comparing
// paths; S3 lists and pages in UTF-8 byte order of the keys. Collect, sort, then page.
const OBJECT_SUFFIX = "._S3rver_object";
FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = "", startAfter = "", prefix = "", maxKeys = Infinity } = options;
  const bucketPath = this.getBucketPath(bucket);
  const keys = [];
  const walk = (rel) => {
    let names;
    try {
      names = fs.readdirSync(rel === "" ? bucketPath : path.join(bucketPath, rel), { withFileTypes: true });
    } catch (e) {
      if (e.code === "ENOENT") return;
      throw e;
    }
    for (const ent of names) {
      const relPath = rel === "" ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) {
        if (relPath === "_S3rver_uploads" || relPath.endsWith("._S3rver_uploads")) continue;
        const dirKey = relPath + "/";
        if (dirKey.startsWith(prefix) || prefix.startsWith(dirKey)) walk(relPath);
      } else if (ent.name.endsWith(OBJECT_SUFFIX)) {
        const key = relPath.slice(0, -OBJECT_SUFFIX.length);
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
  };
  walk("");
  keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const after = Buffer.from(startAfter || "");
  const commonPrefixes = new Set();
  const picked = [];
  let isTruncated = false;
  for (const key of keys) {
    if (startAfter && Buffer.compare(Buffer.from(key), after) <= 0) continue;
    if (delimiter) {
      const idx = key.slice(prefix.length).indexOf(delimiter);
      if (idx !== -1) {
        commonPrefixes.add(key.slice(0, prefix.length + idx + 1));
        continue;
      }
    }
    if (picked.length < maxKeys) picked.push(key);
    else {
      isTruncated = true;
      break;
    }
  }
  const metas = await Promise.all(picked.map((k) => this.getMetadata(bucket, k).catch((e) => (e.code === "ENOENT" ? undefined : Promise.reject(e)))));
  return {
    objects: picked.flatMap((k, i) => (metas[i] ? [new S3Object(bucket, k, null, metas[i])] : [])),
    commonPrefixes: [...commonPrefixes].sort(),
    isTruncated,
  };
};

if (flags.includes("--conditional-writes")) {
  // One PUT at a time per key, so the exists-check and the write are atomic together.
  const chains = new Map();
  const plainPut = objectCtrl.putObject;
  objectCtrl.putObject = async function conditionalPut(ctx) {
    if (ctx.headers["if-none-match"] !== "*") return plainPut(ctx);
    const id = `${ctx.params.bucket}/${ctx.params.key}`;
    const prev = chains.get(id) ?? Promise.resolve();
    let release;
    const mine = new Promise((r) => (release = r));
    chains.set(id, prev.then(() => mine));
    await prev;
    try {
      if (await ctx.store.existsObject(ctx.params.bucket, ctx.params.key)) {
        ctx.req.resume(); // drain the body
        throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-None-Match" });
      }
      return await plainPut(ctx);
    } finally {
      release();
      if (chains.get(id) === mine) chains.delete(id);
    }
  };
}

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(portArg),
  directory: dir,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }],
});
server.run().then(
  (addr) => process.stdout.write(`listening ${addr.port}\n`),
  (e) => {
    process.stderr.write(`s3rver failed to start: ${e.stack || e}\n`);
    process.exit(1);
  },
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
// The test process holds our stdin open; when it goes away (even killed), so do we,
// instead of lingering on the port.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
