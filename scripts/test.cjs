// `npm test`: unit tests of every package, then end-to-end tests of bin/pond.
// Runs `bun test` from node_modules so that only Node and npm need be on the machine.
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");
const root = path.resolve(__dirname, "..");
const bun = path.join(root, "node_modules", ".bin", "bun");
if (!fs.existsSync(path.join(root, "bin", "pond"))) {
  console.error("bin/pond is missing: run `npm install` (it builds the binary) or `npm run build`.");
  process.exit(1);
}
const args = ["test", "--timeout", "120000", ...process.argv.slice(2)];
const r = spawnSync(bun, args, { cwd: root, stdio: "inherit", env: { ...process.env, POND_BIN: path.join(root, "bin", "pond") } });
process.exit(r.status ?? 1);
