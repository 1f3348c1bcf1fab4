// Runs after `npm install`: builds bin/pond with the Bun that npm just installed.
// Plain Node (CommonJS) because it runs before anything else is known to work.
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const root = path.resolve(__dirname, "..");
const bun = path.join(root, "node_modules", ".bin", "bun");
const r = spawnSync(bun, ["packages/cmd/build.ts"], { cwd: root, stdio: "inherit" });
if (r.error) {
  console.error(`postinstall: cannot run ${bun}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
