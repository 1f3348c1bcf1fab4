/**
 * Pond paths: absolute, `/`-separated, UTF-8 names. Every other module takes paths
 * through `parsePath`/`normalizePath` so that validation happens once, here.
 */
import { InvalidNameError, InvalidPathError } from "./errors.ts";

/** The longest name allowed, in UTF-8 bytes (as on most host filesystems). */
export const MAX_NAME_BYTES = 255;

/** A path as the user wrote it, resolved. */
export interface ParsedPath {
  /** The names from the root, without empty, `.` or `..` names. Empty for `/`. */
  names: string[];
  /**
   * True when the user wrote a trailing `/` (or the path is `/`): `/dir/` means the
   * children of `/dir`, `/dir` the entry itself.
   */
  trailingSlash: boolean;
  /** The normalized absolute path, never with a trailing slash (except `/`). */
  absolute: string;
}

const encoder = new TextEncoder();

/**
 * Throws InvalidPathError when `name` cannot be a pond name: empty, `.`/`..`, containing
 * `/` or NUL, or longer than 255 UTF-8 bytes. `path` is only used in the message.
 */
export function validateName(name: string, path: string = name): void {
  if (name === "" || name === "." || name === "..") throw new InvalidPathError(path, `"${name}" is not a valid name`);
  if (name.includes("/")) throw new InvalidPathError(path, `the name "${name}" contains "/"`);
  if (name.includes("\0")) throw new InvalidPathError(path, "a name contains a NUL character");
  // Cheap upper bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (name.length * 3 > MAX_NAME_BYTES && encoder.encode(name).length > MAX_NAME_BYTES) {
    throw new InvalidPathError(path, `the name "${name.slice(0, 20)}…" is longer than ${MAX_NAME_BYTES} UTF-8 bytes`);
  }
}

/**
 * Throws InvalidNameError when `name` may not be given to a new entry: a control character
 * (C0 such as newline, tab or ESC; DEL; C1) breaks listings and terminals, and a name that
 * was not valid UTF-8 (a lone surrogate, or U+FFFD where the bytes were replaced) cannot be
 * stored as the UTF-8 it must be. Older ponds may hold such names: they are still read,
 * looked up and renamed (only names being added are checked), and print escaped.
 */
export function validateNewName(name: string): void {
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(name);
  if (control) {
    const code = control[0].charCodeAt(0);
    const label =
      code === 10
        ? "a newline"
        : code === 9
          ? "a tab"
          : code === 13
            ? "a carriage return"
            : code === 27
              ? "an ESC"
              : `the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    throw new InvalidNameError(name, `the name contains ${label} at character ${control.index + 1}`);
  }
  if (!name.isWellFormed() || name.includes("\ufffd")) throw new InvalidNameError(name, "the name is not valid UTF-8 (the host gave bytes that do not decode)");
}

/**
 * Parses `p` into names, resolving a relative path against `cwd` (itself an absolute
 * pond path), collapsing repeated slashes and resolving `.` and `..`. Throws
 * InvalidPathError for an empty path, a `..` that would go above `/` (the path
 * escapes the pond), a NUL character, or a name over 255 UTF-8 bytes.
 */
export function parsePath(p: string, cwd: string = "/"): ParsedPath {
  if (p === "") throw new InvalidPathError(p, "the path is empty");
  const names: string[] = [];
  if (!p.startsWith("/")) {
    if (!cwd.startsWith("/")) throw new InvalidPathError(cwd, "the working directory must be an absolute path");
    pushNames(names, cwd, cwd);
  }
  pushNames(names, p, p);
  const trailingSlash = p.endsWith("/");
  return { names, trailingSlash, absolute: names.length === 0 ? "/" : "/" + names.join("/") };
}

function pushNames(names: string[], p: string, whole: string): void {
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (names.length === 0) throw new InvalidPathError(whole, "'..' goes above '/', so the path escapes the pond");
      names.pop();
      continue;
    }
    validateName(part, whole);
    names.push(part);
  }
}

/** The normalized absolute form of `p` (see parsePath). A trailing slash is dropped. */
export function normalizePath(p: string, cwd: string = "/"): string {
  return parsePath(p, cwd).absolute;
}

/** The names of `p` from the root (`/` → `[]`), after normalizing it. */
export function splitPath(p: string, cwd: string = "/"): string[] {
  return parsePath(p, cwd).names;
}

/**
 * Joins path parts with `/` and normalizes the result; a relative first part is taken
 * from `/`. `joinPath("/a", "b/c", "..")` is `/a/b`.
 */
export function joinPath(...parts: string[]): string {
  const nonEmpty = parts.filter((x) => x !== "");
  if (nonEmpty.length === 0) return "/";
  return normalizePath(nonEmpty.join("/"));
}

/** The absolute path of `name` inside directory `dir` (both already valid). */
export function childPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** The last name of `p` after normalizing, or `""` for `/`. */
export function basename(p: string): string {
  const names = splitPath(p);
  return names.length === 0 ? "" : names[names.length - 1]!;
}

/** The parent directory of `p` after normalizing; the parent of `/` is `/`. */
export function dirname(p: string): string {
  const names = splitPath(p);
  return names.length <= 1 ? "/" : "/" + names.slice(0, -1).join("/");
}

/** True when the user wrote `p` with a trailing slash (meaning "inside this directory"). */
export function hasTrailingSlash(p: string): boolean {
  return p.endsWith("/");
}

/** True for a path that starts at the root. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith("/");
}

/**
 * Compares two normalized absolute paths by plain string order (UTF-16 code units),
 * the order every listing of paths is returned in.
 */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
