// Builds the single `bin/pond` binary: `bun packages/cmd/build.ts` (run by `npm install`
// and `npm run build`). Options, for experiments: `--entry <file>` (default
// packages/cmd/src/main.ts), `--outfile <file>` (default bin/pond), `--no-bytecode`,
// `--no-splitting`, `--no-minify` (readable names in a CPU profile:
// `BUN_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" bin/pond …`).
//
// DuckDB's native addon cannot be loaded from inside the binary, and a user copies only
// the binary. So the plugin below replaces the module `@duckdb/node-bindings` (which
// `@duckdb/node-api` requires, and which would `require()` the platform package's
// `duckdb.node` from node_modules) with a generated module that imports `duckdb.node`
// and the `libduckdb.so` it links against as file assets — embedded in the binary — and
// hands their paths to packages/tlogfs/src/sql/embedded-duckdb.ts, which extracts them once
// to ~/.cache/pond/duckdb-<version>-<hash>/ and `process.dlopen`s the addon. It runs when
// `@duckdb/node-api` is first imported, so commands that run no SQL never pay for it.
// `bun test` and `bun run` from source do not use this plugin: they load node_modules.
import type { BunPlugin } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

function parseArgs(argv: string[]): { entry: string; outfile: string; bytecode: boolean; splitting: boolean; minify: boolean } {
  let entry = join(root, "packages/cmd/src/main.ts");
  let outfile = join(root, "bin/pond");
  let bytecode = true;
  let splitting = true;
  let minify = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === "--entry") entry = resolve(value());
    else if (a === "--outfile") outfile = resolve(value());
    else if (a === "--no-bytecode") bytecode = false;
    else if (a === "--no-splitting") splitting = false;
    else if (a === "--no-minify") minify = false;
    else fail(`unknown option ${a} (known: --entry <file>, --outfile <file>, --no-bytecode, --no-splitting, --no-minify)`);
  }
  return { entry, outfile, bytecode, splitting, minify };
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

interface NativeDuckDB {
  version: string;
  dir: string;
  files: { name: string; path: string; size: number }[];
  hash: string;
}

/** Finds the DuckDB platform package that `@duckdb/node-api` would load on this machine. */
function findNativeDuckDB(): NativeDuckDB {
  const from = join(root, "packages/tlogfs/src");
  const apiDir = dirname(Bun.resolveSync("@duckdb/node-api/package.json", from));
  const bindingsPkg = Bun.resolveSync("@duckdb/node-bindings/package.json", apiDir);
  const version: string = JSON.parse(readFileSync(bindingsPkg, "utf8")).version;
  const platformPkg = `@duckdb/node-bindings-${process.platform}-${process.arch}`;
  let dir: string;
  try {
    dir = dirname(Bun.resolveSync(`${platformPkg}/package.json`, dirname(bindingsPkg)));
  } catch {
    throw new Error(`${platformPkg} is not installed: run \`npm install\` on ${process.platform}-${process.arch}`);
  }
  // duckdb.node plus the shared libraries it links against (libduckdb.so / .dylib / .dll).
  const names = readdirSync(dir).filter((n) => n === "duckdb.node" || /\.(so(\.\d+)*|dylib|dll)$/.test(n));
  if (!names.includes("duckdb.node")) throw new Error(`${dir} has no duckdb.node`);
  // Libraries first: duckdb.node is loaded after every file is in place anyway.
  names.sort((a, b) => Number(a === "duckdb.node") - Number(b === "duckdb.node") || a.localeCompare(b));
  const hasher = new Bun.CryptoHasher("sha256");
  const files = names.map((name) => {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    hasher.update(name);
    hasher.update(bytes);
    return { name, path, size: statSync(path).size };
  });
  return { version, dir, files, hash: hasher.digest("hex").slice(0, 16) };
}

/** Replaces `@duckdb/node-bindings` with a loader of the embedded addon. */
function embeddedDuckDBPlugin(state: { native?: NativeDuckDB }): BunPlugin {
  const loader = join(root, "packages/tlogfs/src/sql/embedded-duckdb.ts");
  return {
    name: "pond-embedded-duckdb",
    setup(build) {
      build.onResolve({ filter: /^@duckdb\/node-bindings$/ }, () => ({ path: "node-bindings", namespace: "pond-duckdb" }));
      build.onLoad({ filter: /.*/, namespace: "pond-duckdb" }, () => {
        const native = (state.native ??= findNativeDuckDB());
        const imports = native.files.map((f, i) => `import f${i} from ${JSON.stringify(f.path)} with { type: "file" };`);
        const list = native.files.map((f, i) => `{ name: ${JSON.stringify(f.name)}, path: f${i}, size: ${f.size} }`);
        const contents = [
          `import { loadEmbeddedDuckDB } from ${JSON.stringify(loader)};`,
          ...imports,
          `export default loadEmbeddedDuckDB(${JSON.stringify(`duckdb-${native.version}-${native.hash}`)}, [${list.join(", ")}]);`,
        ].join("\n");
        return { contents, loader: "js" };
      });
    },
  };
}

/**
 * `@duckdb/node-api` computes `new Date().getTimezoneOffset()` in a static field when it
 * loads: the first local-time call initializes the time zone database, 11–14 ms of every
 * SQL command. The value is only read when a TIMESTAMPTZ value object is turned into a
 * string (Pond casts to text in SQL instead), so it becomes a getter that computes it on
 * first use, with the same value. The build fails if the line is not found (a new
 * node-api version): look again rather than ship a silent no-op.
 */
function lazyTimezoneOffsetPlugin(): BunPlugin {
  const field = "static timezoneOffsetInMinutes = -new Date().getTimezoneOffset();";
  const getter = "static #tzOffset; static get timezoneOffsetInMinutes() { return (this.#tzOffset ??= -new Date().getTimezoneOffset()); }";
  return {
    name: "pond-lazy-timezone-offset",
    setup(build) {
      build.onLoad({ filter: /@duckdb[\\/]node-api[\\/]lib[\\/]values[\\/]DuckDBTimestampTZValue\.js$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!text.includes(field)) fail(`${args.path} no longer has \`${field}\`: check lazyTimezoneOffsetPlugin in build.ts`);
        return { contents: text.replace(field, getter), loader: "js" };
      });
    },
  };
}

const { entry, outfile, bytecode, splitting, minify } = parseArgs(process.argv.slice(2));
if (!existsSync(entry)) fail(`entry ${entry} does not exist`);
mkdirSync(dirname(outfile), { recursive: true });

const state: { native?: NativeDuckDB } = {};
const started = performance.now();
let result: Awaited<ReturnType<typeof Bun.build>>;
try {
  result = await Bun.build({
    // A worker thread's module is an entry point of its own. Named flat, it lands beside
    // the chunks, so `new URL("./hash-worker.ts", import.meta.url)` finds it from any chunk.
    entrypoints: [entry, join(root, "packages/steward/src/hash-worker.ts"), join(root, "packages/serve/src/ingest/flush-worker.ts")],
    naming: { entry: "[name].[ext]" },
    target: "bun",
    format: "esm",
    minify,
    bytecode,
    // Code behind a dynamic `import()` goes into its own chunk (all chunks are embedded
    // in the binary), so the static imports of lazily loaded modules — `node:fs` costs
    // ~6 ms — are not evaluated when `pond --version` starts. Without splitting the
    // bundler hoists them all to the top of one file.
    splitting,
    sourcemap: "none",
    plugins: [embeddedDuckDBPlugin(state), lazyTimezoneOffsetPlugin()],
    compile: {
      outfile,
      // A CLI must not change behaviour with the .env or bunfig.toml of whatever folder
      // it is run in.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
} catch (e) {
  // Bun.build throws an AggregateError whose `errors` are the build messages.
  const errors = (e as AggregateError).errors ?? [e];
  for (const err of errors) console.error(err);
  fail(`building ${relative(root, outfile)} from ${relative(root, entry)} failed`);
}
if (!result.success) {
  for (const log of result.logs) console.error(log);
  fail(`building ${relative(root, outfile)} from ${relative(root, entry)} failed`);
}
for (const log of result.logs) console.error(log);

const ms = Math.round(performance.now() - started);
const mb = (statSync(outfile).size / 1e6).toFixed(1);
const duck = state.native ? `DuckDB ${state.native.version} embedded (${state.native.files.map((f) => f.name).join(" + ")})` : "no DuckDB";
console.log(`built ${relative(process.cwd(), outfile) || outfile} (${mb} MB, ${duck}${bytecode ? ", bytecode" : ""}${splitting ? ", split" : ""}) in ${ms} ms`);
