// `npm test`: unit tests of every package, then end-to-end tests of bin/pond.
// Runs `bun test` from node_modules so that only Node and npm need be on the machine.
//
// The shared interoperability fixtures ($POND_FIXTURES, default ../shared/fixtures) are
// not part of this repository. When they are missing, the test files that read them are
// left out and the run says so, loudly, before and after; in CI (CI=true) a missing
// fixtures folder is a failure, so CI always runs them.
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");
const root = path.resolve(__dirname, "..");
const bun = path.join(root, "node_modules", ".bin", "bun");
if (!fs.existsSync(path.join(root, "bin", "pond"))) {
  console.error("bin/pond is missing: run `npm install` (it builds the binary) or `npm run build`.");
  process.exit(1);
}
const fixtures = process.env.POND_FIXTURES ? path.resolve(process.env.POND_FIXTURES) : path.resolve(root, "..", "shared", "fixtures");
const extra = process.argv.slice(2);
let files = [];
let warning = "";
if (!fs.existsSync(fixtures)) {
  const all = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".test.ts")) all.push(p);
    }
  };
  walk(path.join(root, "packages"));
  walk(path.join(root, "test"));
  const needs = all.filter((f) => /\bFIXTURES\b|shared\/fixtures/.test(fs.readFileSync(f, "utf8")));
  warning = `\n*** ${needs.length} of ${all.length} test files were NOT run: they read the shared fixtures, and ${fixtures} does not exist.\n*** Put the project's shared/ folder beside this repository, or set POND_FIXTURES=/path/to/fixtures, to run them.\n`;
  if (process.env.CI === "true") {
    console.error(warning + "*** CI must run every test: failing.");
    process.exit(1);
  }
  console.error(warning);
  if (extra.length === 0) files = all.filter((f) => !needs.includes(f)).map((f) => path.relative(root, f));
}
// A whole run (no test files named) first checks the formatting and the linter, so a
// tree that `npm run format` would change, or that `npm run lint` faults, does not pass.
if (extra.length === 0) {
  const biome = path.join(root, "node_modules", ".bin", "biome");
  const f = spawnSync(biome, ["format", "."], { cwd: root, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (f.status !== 0) {
    console.error((f.stderr || "").split("\n").slice(0, 40).join("\n"));
    console.error("The tree is not formatted: run `npm run format`, then commit.");
    process.exit(1);
  }
  // Then the linter (biome.json: recommended rules, a few off with reasons in README.md).
  const l = spawnSync(biome, ["lint", "."], { cwd: root, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (l.status !== 0) {
    console.error((l.stderr || "").split("\n").slice(0, 60).join("\n"));
    console.error("The linter found problems: run `npm run lint` to see them all, fix them, then commit.");
    process.exit(1);
  }
}
const args = ["test", "--timeout", "120000", ...extra, ...files];
const r = spawnSync(bun, args, { cwd: root, stdio: "inherit", env: { ...process.env, POND_BIN: path.join(root, "bin", "pond"), POND_FIXTURES: fixtures } });
if (warning) console.error(warning);
process.exit(r.status ?? 1);
