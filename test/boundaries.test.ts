// The layering of DESIGN.md, checked on every import: a package imports only the
// packages below it (`diagnostics ← tinyfs ← oplog ← tlogfs ← steward ← {collect,
// present} ← serve ← cmd`), only through their `exports` map (never into another package's
// src/), and declares each one it imports in its package.json. Tests and benchmarks
// outside packages/ import packages the same way.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
/** Layer of each package: it may import only packages of a lower layer. */
const LAYER: Record<string, number> = { diagnostics: 0, tinyfs: 1, oplog: 2, tlogfs: 3, steward: 4, collect: 5, present: 5, serve: 6, cmd: 7 };

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!).filter(Boolean);
}

const packages = readdirSync(join(ROOT, "packages")).filter((p) => existsSync(join(ROOT, "packages", p, "package.json")));
const manifest = (p: string): { exports?: Record<string, string>; dependencies?: Record<string, string> } => {
  const f = join(ROOT, "packages", p, "package.json");
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : {};
};

/** Every rule an import of `spec` from `file` (in package `pkg`, or outside packages/) breaks. */
function violations(file: string, spec: string, pkg: string | undefined): string[] {
  const where = `${relative(ROOT, file)} imports "${spec}"`;
  const out: string[] = [];
  if (spec.startsWith(".")) {
    const target = resolve(dirname(file), spec);
    const inPackages = relative(join(ROOT, "packages"), target);
    // A package's own tests may share the repository's test servers (test/support), nothing else outside it.
    const toSupport = file.endsWith(".test.ts") && !relative(join(ROOT, "test", "support"), target).startsWith("..");
    if (pkg !== undefined && inPackages.split("/")[0] !== pkg && !toSupport) out.push(`${where}: a relative import out of package ${pkg}`);
    if (pkg === undefined && !inPackages.startsWith("..")) out.push(`${where}: reaches into packages/ by path; import @pond/NAME`);
    return out;
  }
  const m = /^@pond\/([a-z-]+)(\/.*)?$/.exec(spec);
  if (!m) return out;
  const [, target, sub] = m;
  if (!(target! in LAYER)) out.push(`${where}: package ${target} has no layer in DESIGN.md's order`);
  const exp = manifest(target!).exports ?? {};
  if (!(`.${sub ?? ""}` in exp)) out.push(`${where}: "${`.${sub ?? ""}`}" is not in ${target}'s exports map`);
  if (pkg !== undefined) {
    if (target === pkg) out.push(`${where}: a package imports itself by name`);
    else if (LAYER[target!]! >= LAYER[pkg]!) out.push(`${where}: ${pkg} (layer ${LAYER[pkg]}) may not import ${target} (layer ${LAYER[target!]})`);
    if (!manifest(pkg).dependencies?.[`@pond/${target}`] && target !== pkg)
      out.push(`${where}: @pond/${target} is missing from packages/${pkg}/package.json's dependencies`);
  }
  return out;
}

describe("package boundaries", () => {
  test("every package has a layer and an exports map", () => {
    for (const p of packages) {
      expect({ p, layer: p in LAYER }).toEqual({ p, layer: true });
      expect({ p, exports: typeof manifest(p).exports?.["."] }).toEqual({ p, exports: "string" });
    }
  });

  test("no import goes upward, sideways, into another package's src/, or undeclared", () => {
    const found: string[] = [];
    for (const p of packages) for (const f of tsFiles(join(ROOT, "packages", p))) for (const s of importsOf(f)) found.push(...violations(f, s, p));
    for (const d of ["test", "bench"]) for (const f of tsFiles(join(ROOT, d))) for (const s of importsOf(f)) found.push(...violations(f, s, undefined));
    expect(found).toEqual([]);
  });

  test("the checker itself catches each kind of violation", () => {
    const f = join(ROOT, "packages", "tinyfs", "src", "x.ts");
    expect(violations(f, "@pond/steward", "tinyfs").join()).toContain("may not import steward");
    expect(violations(join(ROOT, "packages", "collect", "src", "x.ts"), "@pond/present", "collect").join()).toContain("may not import present");
    expect(violations(f, "@pond/diagnostics/src/log.ts", "tinyfs").join()).toContain("not in diagnostics's exports map");
    expect(violations(f, "../../oplog/src/index.ts", "tinyfs").join()).toContain("relative import out of package tinyfs");
    expect(violations(join(ROOT, "test", "t.ts"), "../packages/oplog/src/index.ts", undefined).join()).toContain("reaches into packages/");
    expect(violations(f, "@pond/diagnostics", "tinyfs")).toEqual([]);
  });
});
