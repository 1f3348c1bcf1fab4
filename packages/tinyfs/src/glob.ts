/**
 * Glob patterns over pond paths. A pattern is compiled once into alternatives (after
 * `{a,b}` expansion), each a list of segments matched name by name, so a walk can
 * start at the literal prefix and prune directories that cannot contain a match.
 *
 * Syntax: `*` any characters within a name, `?` one character, `[abc]` `[a-z]`
 * `[!a]` (or `[^a]`) one character of a class, `{a,b}` alternatives (which may hold
 * other glob characters and slashes, and nest), `**` as a whole segment any number of
 * whole names including none, and `\x` the character x itself. Names starting with
 * `.` are matched by `*`, `?`, `[…]` and `**` only with `{dot: true}`; a pattern
 * segment that itself starts with `.` matches them always.
 */
import { InvalidPathError } from "./errors.ts";
import { parsePath, validateName } from "./path.ts";

export interface GlobOptions {
  /** Let wildcards match names starting with "." (`pond list -a`). */
  dot?: boolean;
  /** The directory a relative pattern is taken from (default "/"). */
  cwd?: string;
}

/** A compiled glob pattern. Matching is on normalized absolute paths. */
export interface Glob {
  readonly pattern: string;
  /** False when the pattern names exactly one path (no wildcards, braces or classes). */
  readonly hasMagic: boolean;
  /** The leading names free of glob characters, shared by every alternative: where a walk starts. */
  readonly literalPrefix: string[];
  /** True when the pattern ends with "/" (match directories, then their children). */
  readonly trailingSlash: boolean;
  /** True when the normalized absolute `path` matches. */
  match(path: string): boolean;
  /** Like match, on the path's names (`[]` for "/"). */
  matchNames(names: readonly string[]): boolean;
  /** False when no path strictly below directory `names` can match: a walk may prune it. */
  couldMatchBelow(names: readonly string[]): boolean;
}

type Segment = { kind: "globstar" } | { kind: "literal"; name: string } | { kind: "pattern"; re: RegExp; explicitDot: boolean };

type Token = { t: "lit"; c: string } | { t: "star" } | { t: "any" } | { t: "class"; negate: boolean; items: Array<[string, string]> };

/** Brace expansion beyond this many alternatives is refused (it is almost surely a mistake). */
const MAX_ALTERNATIVES = 10_000;

/** True when `s` has an unescaped wildcard, class or brace group, i.e. is not one literal path. */
export function isGlob(s: string): boolean {
  const alts = expandBraces(s);
  if (alts.length > 1) return true;
  return splitSegments(alts[0]!).some((seg) => seg === "**" || tokenize(seg).some((t) => t.t !== "lit"));
}

/**
 * Compiles `pattern` (absolute, or relative to `opts.cwd`). Throws InvalidPathError when
 * a literal part of it is not a valid pond path (`..` above `/`, NUL, a name over 255
 * bytes) or braces expand to more than 10 000 alternatives.
 */
export function compileGlob(pattern: string, opts: GlobOptions = {}): Glob {
  if (pattern === "") throw new InvalidPathError(pattern, "the pattern is empty");
  const dot = opts.dot ?? false;
  const base = pattern.startsWith("/") ? [] : parsePath(opts.cwd ?? "/").names;
  const alternatives = expandBraces(pattern).map((alt) => compileAlternative(alt, base, pattern));
  const hasMagic = alternatives.length > 1 || alternatives[0]!.some((s) => s.kind !== "literal");
  const literalPrefix = commonLiteralPrefix(alternatives);
  const trailingSlash = pattern.endsWith("/");

  const matchNames = (names: readonly string[]) => alternatives.some((segs) => matchFrom(segs, 0, names, 0, dot));
  return {
    pattern,
    hasMagic,
    literalPrefix,
    trailingSlash,
    matchNames,
    match: (path: string) => matchNames(namesOf(path)),
    couldMatchBelow: (names) => alternatives.some((segs) => belowFrom(segs, 0, names, 0, dot)),
  };
}

function namesOf(path: string): string[] {
  return path.split("/").filter((n) => n !== "");
}

function matchFrom(segs: Segment[], si: number, names: readonly string[], ni: number, dot: boolean): boolean {
  if (si === segs.length) return ni === names.length;
  const seg = segs[si]!;
  if (seg.kind === "globstar") {
    if (matchFrom(segs, si + 1, names, ni, dot)) return true;
    if (ni === names.length || (!dot && names[ni]!.startsWith("."))) return false;
    return matchFrom(segs, si, names, ni + 1, dot);
  }
  if (ni === names.length) return false;
  return matchSegment(seg, names[ni]!, dot) && matchFrom(segs, si + 1, names, ni + 1, dot);
}

function belowFrom(segs: Segment[], si: number, names: readonly string[], ni: number, dot: boolean): boolean {
  // Every given name is consumed: a descendant can match iff a segment is left for it.
  if (ni === names.length) return si < segs.length;
  if (si === segs.length) return false;
  const seg = segs[si]!;
  if (seg.kind === "globstar") {
    if (belowFrom(segs, si + 1, names, ni, dot)) return true;
    if (!dot && names[ni]!.startsWith(".")) return false;
    return belowFrom(segs, si, names, ni + 1, dot);
  }
  return matchSegment(seg, names[ni]!, dot) && belowFrom(segs, si + 1, names, ni + 1, dot);
}

function matchSegment(seg: Exclude<Segment, { kind: "globstar" }>, name: string, dot: boolean): boolean {
  if (seg.kind === "literal") return seg.name === name;
  if (!dot && !seg.explicitDot && name.startsWith(".")) return false;
  return seg.re.test(name);
}

function commonLiteralPrefix(alternatives: Segment[][]): string[] {
  const prefixes = alternatives.map((segs) => {
    const out: string[] = [];
    for (const s of segs) {
      if (s.kind !== "literal") break;
      out.push(s.name);
    }
    return out;
  });
  const first = prefixes[0]!;
  let n = first.length;
  for (const p of prefixes.slice(1)) {
    let i = 0;
    while (i < n && i < p.length && p[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n);
}

function compileAlternative(alt: string, base: string[], pattern: string): Segment[] {
  const segs: Segment[] = base.map((name) => ({ kind: "literal", name }));
  for (const raw of splitSegments(alt)) {
    if (raw === "") continue;
    if (raw === "**") {
      if (segs[segs.length - 1]?.kind !== "globstar") segs.push({ kind: "globstar" });
      continue;
    }
    const tokens = tokenize(raw);
    if (tokens.every((t) => t.t === "lit")) {
      const name = tokens.map((t) => (t as { c: string }).c).join("");
      if (name === ".") continue;
      if (name === "..") {
        if (segs.length === 0) throw new InvalidPathError(pattern, "'..' goes above '/', so the pattern escapes the pond");
        segs.pop();
        continue;
      }
      validateName(name, pattern);
      segs.push({ kind: "literal", name });
      continue;
    }
    const first = tokens[0]!;
    segs.push({ kind: "pattern", re: toRegExp(tokens), explicitDot: first.t === "lit" && first.c === "." });
  }
  return segs;
}

/** Splits on "/"; an escaped "\/" is a separator too (a name cannot hold "/"). */
function splitSegments(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\" && s[i + 1] === "/") {
      out.push(cur);
      cur = "";
      i++;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === "/") {
      out.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** The index just past the "]" closing the class that opens at `i`, or -1 when `[` is literal. */
function classEnd(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === "!" || s[j] === "^") j++;
  if (s[j] === "]") j++;
  while (j < s.length) {
    const ch = s[j]!;
    if (ch === "\\") j += 2;
    else if (ch === "]") return j + 1;
    else if (ch === "/") return -1;
    else j++;
  }
  return -1;
}

/** Expands `{a,b}` groups (nested, escapes kept for tokenize). A group without a top-level comma is literal. */
function expandBraces(s: string): string[] {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "[") {
      const end = classEnd(s, i);
      if (end > 0) i = end - 1;
      continue;
    }
    if (ch !== "{") continue;
    const group = braceGroup(s, i);
    if (!group) continue;
    const prefix = s.slice(0, i);
    const suffix = s.slice(group.close + 1);
    const out: string[] = [];
    for (const alt of group.alternatives) {
      for (const e of expandBraces(prefix + alt + suffix)) {
        out.push(e);
        if (out.length > MAX_ALTERNATIVES) {
          throw new InvalidPathError(s, `braces expand to more than ${MAX_ALTERNATIVES} alternatives`);
        }
      }
    }
    return out;
  }
  return [s];
}

function braceGroup(s: string, open: number): { close: number; alternatives: string[] } | null {
  let depth = 0;
  const commas: number[] = [];
  for (let j = open + 1; j < s.length; j++) {
    const ch = s[j]!;
    if (ch === "\\") {
      j++;
    } else if (ch === "[") {
      const end = classEnd(s, j);
      if (end > 0) j = end - 1;
    } else if (ch === "{") {
      depth++;
    } else if (ch === "}") {
      if (depth > 0) {
        depth--;
        continue;
      }
      if (commas.length === 0) return null;
      const bounds = [open, ...commas, j];
      const alternatives = bounds.slice(1).map((b, k) => s.slice(bounds[k]! + 1, b));
      return { close: j, alternatives };
    } else if (ch === "," && depth === 0) {
      commas.push(j);
    }
  }
  return null;
}

/** Tokenizes one segment (no "/" in it), by code point. */
function tokenize(seg: string): Token[] {
  const cs = Array.from(seg);
  const out: Token[] = [];
  for (let i = 0; i < cs.length; i++) {
    const ch = cs[i]!;
    if (ch === "\\") {
      if (i + 1 < cs.length) out.push({ t: "lit", c: cs[++i]! });
      else out.push({ t: "lit", c: "\\" });
    } else if (ch === "*") {
      if (out[out.length - 1]?.t !== "star") out.push({ t: "star" });
    } else if (ch === "?") {
      out.push({ t: "any" });
    } else if (ch === "[") {
      const parsed = parseClass(cs, i);
      if (parsed) {
        out.push(parsed.token);
        i = parsed.end - 1;
      } else {
        out.push({ t: "lit", c: "[" });
      }
    } else {
      out.push({ t: "lit", c: ch });
    }
  }
  return out;
}

function parseClass(cs: string[], i: number): { token: Token; end: number } | null {
  let j = i + 1;
  let negate = false;
  if (cs[j] === "!" || cs[j] === "^") {
    negate = true;
    j++;
  }
  const items: Array<[string, string]> = [];
  let first = true;
  while (j < cs.length) {
    let c = cs[j]!;
    if (c === "]" && !first) return { token: { t: "class", negate, items }, end: j + 1 };
    first = false;
    if (c === "\\" && j + 1 < cs.length) c = cs[++j]!;
    j++;
    if (cs[j] === "-" && j + 1 < cs.length && cs[j + 1] !== "]") {
      let hi = cs[j + 1]!;
      j += 2;
      if (hi === "\\" && j < cs.length) hi = cs[j++]!;
      items.push([c, hi]);
    } else {
      items.push([c, c]);
    }
  }
  return null;
}

function toRegExp(tokens: Token[]): RegExp {
  let src = "^";
  for (const t of tokens) {
    if (t.t === "lit") src += escapeRegExp(t.c);
    else if (t.t === "star") src += ".*";
    else if (t.t === "any") src += ".";
    else {
      // A reversed range (z-a) matches nothing, as in shells, instead of a RegExp error.
      const parts = t.items
        .filter(([lo, hi]) => lo.codePointAt(0)! <= hi.codePointAt(0)!)
        .map(([lo, hi]) => (lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`));
      if (parts.length === 0) src += t.negate ? "." : "[]";
      else src += `[${t.negate ? "^" : ""}${parts.join("")}]`;
    }
  }
  // Names may hold newlines: "s" lets "." match them; "u" makes "?" one code point.
  return new RegExp(src + "$", "su");
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
}

function escapeClassChar(c: string): string {
  return /[\\\][^-]/.test(c) ? "\\" + c : c;
}
