import { mkdirSync, closeSync, lstatSync, openSync, readlinkSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { PondError, isSystemError, silentProgress, terminalProgress, type Progress } from "@pond/diagnostics";
import type { Pond } from "@pond/steward";
import {
  NotFoundError,
  SYMLINK_LIMIT,
  SymlinkLoopError,
  WD,
  listPattern,
  normalizePath,
  parsePath,
  newSha256,
  type EntryType,
  type VersionOptions,
} from "@pond/tinyfs";
import { AdoptableFile, FileContent, mayHoldHash, type TLogView } from "@pond/tlogfs";
import { commandLine, openPond, readWD } from "../context.ts";
import { parseEndpoint, type Endpoint } from "../endpoint.ts";
import { listHostFolder, readHostFile, statHost } from "../host-files.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { copyCommand } from "../commands.ts";
import { HostDanglingSymlinkError, HostSymlinkLoopError, UsageError } from "../errors.ts";
import { CopyFolderOntoFileError } from "../command-errors.ts";

type Args = ArgsOf<typeof copyCommand>;

type HostEndpoint = Extract<Endpoint, { kind: "host" }>;
/** A host source found inside a folder whose name is not UTF-8 carries its path as bytes (`path` is then only for messages). */
type HostSource = HostEndpoint & { bytesPath?: Buffer };
const hostPathOf = (s: HostSource): string | Buffer => s.bytesPath ?? s.path;

/**
 * `pond copy SRC... DEST`. Into the pond: host files and folders (recursively), all
 * in one transaction. Out of the pond: pond paths or globs to `host:///dir`, each file
 * written under its full pond path there.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const all = [...args.sources, args.dest].map((s) => parseEndpoint(s, io.cwd));
  const dest = all[all.length - 1]!;
  const sources = all.slice(0, -1);
  const pond = openPond(args, io);
  if (dest.kind === "host") return copyOut(pond, sources, dest, args);
  const bad = sources.find((s) => s.kind !== "host");
  if (bad) {
    throw new UsageError(
      `Source "${bad.raw}" is a pond path; copying into the pond takes host files`,
      "copy",
      "Name host files as host:///absolute/path or host:relative/path; to copy out, make the destination host:///dir.",
    );
  }
  return copyIn(
    pond,
    sources as HostEndpoint[],
    dest.path,
    Object.assign(args, { warn: (m: string) => io.err.write(m) }),
    io.errIsTTY ? terminalProgress("copy") : silentProgress,
  );
}

async function copyIn(pond: Pond, sources: HostEndpoint[], dest: string, args: Args, progress: Progress): Promise<number> {
  // Check every source before anything is written, so a typo changes nothing.
  const stats = sources.map((s) => ({ src: s, ...statHostFollowing(s.path, s.raw) }));
  for (const s of stats) {
    if (s.isDirectory && s.src.format !== "data") {
      throw new UsageError(
        `"${s.src.raw}" is a folder; host+${s.src.format}: takes one file`,
        "copy",
        "Name the files, or copy the folder with host: to store raw bytes.",
      );
    }
  }
  const parents = args.parents;
  const staging = join(pond.paths.data, "_large_files");
  const one = stats.length === 1 && !stats[0]!.isDirectory ? stats[0]!.src : undefined;
  const ahead = one && (one.format === "csv" || one.format === "table") ? new IngestAhead(one, args, staging) : undefined;
  const dirs: PondDirs = { staging, control: pond.paths.control, ahead };
  const series = sources.every((s) => s.format === "series" || s.format === "series+csv");
  progress.total(undefined, stats.reduce((a, s) => a + (s.isDirectory ? 0 : s.size), 0) || undefined);
  try {
    await pond.write(
      commandLine(args),
      async ({ txn, note }) => {
        const wd = new WD(txn);
        const destPath = parsePath(dest);
        const existing = await wd.resolve(destPath.absolute, { followSymlinks: true });
        const intoDir = existing?.entryType === "directory" || (!existing && destPath.trailingSlash);
        if (intoDir) {
          if (!existing) await wd.mkdir(destPath.absolute, { parents });
          for (const s of stats) await copyTree(wd, s.src, joinPond(destPath.absolute, baseName(s.src.path)), s.isDirectory, args, note, progress, dirs);
        } else if (!existing && sources.length === 1 && stats[0]!.isDirectory) {
          // As cp -r: a folder copied onto a path that does not exist becomes that directory.
          if (parents) await wd.mkdir(parentPath(destPath.absolute), { parents: true });
          await copyTree(wd, stats[0]!.src, destPath.absolute, true, args, note, progress, dirs);
        } else if (existing || sources.length === 1 || series) {
          for (const s of stats) {
            if (s.isDirectory) throw new CopyFolderOntoFileError(s.src.raw, destPath.absolute);
            await copyFile(wd, s.src, destPath.absolute, args, note, parents, progress, dirs);
          }
        } else {
          throw new NotFoundError(
            `Directory "${destPath.absolute}"`,
            `To copy several sources, create it first (\`pond mkdir ${destPath.absolute}\`) or write "${destPath.absolute}/" with -p.`,
          );
        }
      },
      undefined,
      { locked: () => ahead?.begin() },
    );
  } finally {
    await ahead?.settle();
    progress.done();
  }
  return 0;
}

type Ingest = Awaited<ReturnType<typeof import("../query/ingest.ts").prepareIngest>>;

/**
 * The conversion of one table from one host file (host+csv:, host+table:), begun as soon
 * as the write lock is held, so that DuckDB's work (nearly all of the command's time)
 * overlaps the transaction's opening and the resolving of the destination. It needs no
 * pond state: a table, unlike a series, does not depend on what the path holds. It does
 * need the lock: its temp file is in the pond's large-file folder, where `pond recover`
 * removes the temp files of writers that hold no lock.
 */
class IngestAhead {
  private started: Promise<Ingest> | undefined;
  constructor(
    readonly src: HostSource,
    private readonly args: Args,
    private readonly staging: string,
  ) {}

  begin(): void {
    this.started = import("../query/ingest.ts").then(({ prepareIngest }) => prepareIngest(this.src, this.args, this.staging));
    this.started.catch(() => {}); // taken (and its error reported) by copyFile, or settled below
  }

  /** The conversion of `src` begun under the lock, once: a rerun of the transaction converts again. */
  take(src: HostSource): Promise<Ingest> | undefined {
    const p = src === this.src ? this.started : undefined;
    if (p) this.started = undefined;
    return p;
  }

  /**
   * Once the transaction is over: a conversion it did not take (it failed before) is
   * waited for and its temp files removed. A conversion that failed removed its own,
   * and its error is not the command's: the transaction's, reported, came first.
   */
  async settle(): Promise<void> {
    const p = this.started;
    this.started = undefined;
    await p?.then(
      (r) => r.cleanup(),
      () => {},
    );
  }
}

/**
 * Copies a host file or folder to pond path `target`. Host symlinks are followed (as cp
 * -L) unless --no-dereference, which stores each as a pond symlink with the same target
 * text. `seen` holds the folders on the way down (device:inode), so a link back to one of
 * them is reported as a loop instead of copied for ever.
 */
async function copyTree(
  wd: WD,
  src: HostSource,
  target: string,
  isDir: boolean,
  args: Args,
  note: (c: string) => void,
  progress: Progress,
  dirs: PondDirs,
  seen: string[] = [],
): Promise<void> {
  if (!isDir) return copyFile(wd, src, target, args, note, false, progress, dirs);
  const id = hostDirId(hostPathOf(src));
  if (seen.includes(id)) {
    throw new HostSymlinkLoopError(src.path, "folder");
  }
  const existing = await wd.resolve(target);
  if (!existing) {
    await wd.mkdir(target);
    note(`mkdir ${target}`);
  }
  for (const d of listHostFolder(hostPathOf(src))) {
    // A name that is not UTF-8 is reached through its bytes; the pond gets it escaped.
    const child: HostSource = { ...src, path: d.path.toString(), bytesPath: typeof d.path === "string" ? undefined : d.path, raw: `${src.raw}/${d.name}` };
    if (lstatSync(d.path).isSymbolicLink() && !args.dereference) {
      const r = await wd.symlink(readlinkSync(d.path), joinPond(target, d.name));
      note(`symlink ${r.path} -> ${readlinkSync(d.path)}`);
      continue;
    }
    const st = statHostFollowing(d.path, child.raw);
    await copyTree(wd, child, joinPond(target, d.name), st.isDirectory, args, note, progress, dirs, [...seen, id]);
  }
}

function hostDirId(path: string | Buffer): string {
  const s = statSync(path);
  return `${s.dev}:${s.ino}`;
}

/** statHost, with a link that loops on itself (ELOOP) or leads nowhere named as such. */
function statHostFollowing(path: string | Buffer, raw: string): { isDirectory: boolean; size: number } {
  try {
    return statHost(path, raw);
  } catch (e) {
    if (isSystemError(e, "ELOOP")) {
      throw new HostSymlinkLoopError(path, "symlink");
    }
    if (e instanceof PondError && e.code === "host_not_found" && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new HostDanglingSymlinkError(path, readlinkSync(path));
    }
    throw e;
  }
}

function parentPath(abs: string): string {
  return abs.slice(0, abs.lastIndexOf("/")) || "/";
}

/**
 * Folders of the pond a copy uses besides the transaction: `staging`, where a CSV's Parquet is
 * written, beside the pond's large files, so the store takes the file itself; `control`, where
 * a collector config's parsed document is cached (collect's config-cache.ts). With them,
 * `ahead`: the one source's conversion, begun under the lock (see IngestAhead).
 */
interface PondDirs {
  staging: string;
  control: string;
  ahead: IngestAhead | undefined;
}

/** Copies one host file to `target` (see PondDirs). */
async function copyFile(
  wd: WD,
  src: HostSource,
  target: string,
  args: Args,
  note: (c: string) => void,
  parents: boolean,
  progress: Progress,
  dirs: PondDirs,
): Promise<void> {
  let entryType: EntryType = "file:data";
  let content: AsyncIterable<Uint8Array> | Uint8Array;
  let opts = {};
  let cleanup = () => {};
  if (target.startsWith("/etc/collect/")) await checkCollectorConfig(src, target, dirs.control);
  if (target === "/etc/site.yaml") await checkSiteConfig(src, target);
  if (target.startsWith("/etc/reduce/")) await checkReduceConfig(src, target);
  if (src.format === "data") {
    // A host file the store can copy itself: one read and one write (tlogfs FileContent).
    content = new FileContent(hostPathOf(src), { onBytes: (n) => progress.tick(0, n) });
  } else {
    const { prepareIngest } = await import("../query/ingest.ts");
    // Appending to a series: the new version must keep its time column and column types
    // (seriesSchemaOf of every version, kept in the series' summary: see series-summary.ts).
    const current = await wd.resolve(target, { followSymlinks: true });
    const appendTo =
      current?.entryType === "file:series"
        ? { path: current.path, schema: (await (wd.view as TLogView).seriesSummary(current.parentId, current.nodeId)).schema }
        : undefined;
    const prepared = await (dirs.ahead?.take(src) ?? prepareIngest(src, args, dirs.staging, appendTo));
    entryType = prepared.entryType;
    content = prepared.content;
    opts = prepared.options;
    cleanup = prepared.cleanup;
  }
  try {
    if (entryType === "file:series" && (await skipDuplicate(wd, src, target, content, opts as VersionOptions, args))) return;
    const r = await wd.createFile(target, entryType, content, { ...opts, parents });
    if (src.format === "data") progress.tick(1, 0);
    note(`${r.created ? "created" : "updated"} ${r.resolved.path} (${entryType} v${r.version.version}, ${r.version.size} bytes)`);
  } finally {
    cleanup();
  }
}

/**
 * Re-running an import must not double rows: a series version whose payload, or whose
 * host source file, has the same sha256 as one the series already has is skipped with a
 * note on stderr (unless --allow-duplicate). The source's hash is recorded on each version.
 */
async function skipDuplicate(
  wd: WD,
  src: HostEndpoint,
  target: string,
  content: AsyncIterable<Uint8Array> | Uint8Array,
  opts: VersionOptions,
  args: Args & { warn?: (m: string) => void },
): Promise<boolean> {
  const sourceSha = await sha256Of(readHostFile(src.path));
  opts.attributes = { ...opts.attributes, source_sha256: sourceSha };
  if (args.allowDuplicate) return false;
  const existing = await wd.resolve(target, { followSymlinks: true });
  if (existing?.entryType !== "file:series") return false;
  // A converted payload is a file that can be read twice; otherwise the payload is the host file itself.
  const payloadSha = content instanceof AdoptableFile ? await sha256Of(content) : sourceSha;
  // Every version is read only when the series' hash prefixes (series-hashes.ts) say one may match.
  const hashes = await (wd.view as TLogView).seriesHashes(existing.parentId, existing.nodeId);
  if (!mayHoldHash(hashes, payloadSha) && !mayHoldHash(hashes, sourceSha)) return false;
  const same = ((await wd.stat(target)).versions ?? []).find((v) => v.sha256 === payloadSha || v.attributes.source_sha256 === sourceSha);
  if (!same) return false;
  args.warn?.(
    `pond: skipped "${src.raw}": ${target} version ${same.version} already holds the same data (sha256 ${sourceSha.slice(0, 12)}…); pass --allow-duplicate to append it anyway\n`,
  );
  return true;
}

async function sha256Of(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const h = newSha256();
  for await (const c of chunks) h.update(c);
  return h.hex();
}

/**
 * A collector config is checked before it is stored: a bad one is refused and nothing is
 * written. A good one's parsed document goes into the config cache, so the first
 * `pond collect` after the copy does not parse the YAML again.
 */
async function checkCollectorConfig(src: HostEndpoint, target: string, controlDir: string): Promise<void> {
  const { configDocCache, isConfigPath, parseConfig } = await import("@pond/collect");
  if (!isConfigPath(target)) return;
  if (src.format !== "data") throw new UsageError(`"${target}" is a collector config; copy it with host:, not host+${src.format}:`, "copy");
  parseConfig(await Bun.file(src.path).text(), target, configDocCache(controlDir));
}

/** `/etc/site.yaml` is checked before it is stored, like a collector config. */
async function checkSiteConfig(src: HostEndpoint, target: string): Promise<void> {
  const { parseSiteConfig } = await import("@pond/present");
  if (src.format !== "data") throw new UsageError(`"${target}" is the site config; copy it with host:, not host+${src.format}:`, "copy");
  parseSiteConfig(await Bun.file(src.path).text(), target);
}

/** A reduction config is checked before it is stored, as a collector config is. */
async function checkReduceConfig(src: HostEndpoint, target: string): Promise<void> {
  const { isReduceConfigPath, parseReduceConfig } = await import("@pond/present");
  if (!isReduceConfigPath(target)) return;
  if (src.format !== "data") throw new UsageError(`"${target}" is a reduction config; copy it with host:, not host+${src.format}:`, "copy");
  parseReduceConfig(await Bun.file(src.path).text(), target);
}

async function copyOut(pond: Pond, sources: Endpoint[], dest: HostEndpoint, args: Args): Promise<number> {
  const bad = sources.find((s) => s.kind !== "pond");
  if (bad) throw new UsageError(`Source "${bad.raw}" is a host file; copying out takes pond paths`, "copy", "Use cp(1) to copy between host folders.");
  const { view, wd } = await readWD(pond, {});
  // Resolve every source first: a missing one fails before anything is written.
  const files: { path: string; parentId: string; nodeId: string }[] = [];
  for (const s of sources) {
    const matches = await listPattern(wd, s.path, { dot: true });
    if (matches.length === 0) throw new NotFoundError(`"${s.path}"`, "Check it with `pond list`.");
    for (const m of matches) await collectOut(wd, m.path, files, 0);
  }
  // Check every payload before writing any: with one damaged, nothing lands on the host.
  await view.checkFilePayloads(files);
  for (const f of files) await writeOut(view, f, join(dest.path, f.path));
  return 0;
}

/**
 * The files to write for pond path `path` (under that path on the host): a file itself,
 * a directory's files, and what a symlink leads to, followed as cp -L does (a dangling
 * link or a loop throws the error naming it).
 */
async function collectOut(wd: WD, path: string, files: { path: string; parentId: string; nodeId: string }[], depth: number): Promise<void> {
  const st = await wd.stat(path);
  if (st.entryType !== "directory") {
    files.push({ path, parentId: st.parentId, nodeId: st.nodeId });
    return;
  }
  // A link to a directory above itself would walk for ever: the same bound as a symlink chain.
  if (depth > SYMLINK_LIMIT) throw new SymlinkLoopError(path, SYMLINK_LIMIT);
  for (const e of await wd.list(path)) await collectOut(wd, e.path, files, e.entryType === "symlink" ? depth + 1 : depth);
}

/**
 * Writes one pond file to the host: into a hidden temp file beside the target, renamed
 * over it only once every byte was read and matched the log, so a damaged payload or a
 * failed read never leaves a partial or wrong file where the user looks.
 */
async function writeOut(view: TLogView, f: { path: string; parentId: string; nodeId: string }, hostPath: string): Promise<void> {
  mkdirSync(dirname(hostPath), { recursive: true });
  const tmp = join(dirname(hostPath), `.pond-copy-${process.pid}-${crypto.randomUUID().slice(0, 8)}.tmp`);
  const fd = openSync(tmp, "wx");
  let ok = false;
  try {
    try {
      for await (const chunk of view.readPath(f.path, f.parentId, f.nodeId)) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, hostPath);
    ok = true;
  } finally {
    if (!ok) rmSync(tmp, { force: true });
  }
}

function joinPond(dir: string, name: string): string {
  return normalizePath(dir === "/" ? `/${name}` : `${dir}/${name}`);
}

function baseName(hostPath: string): string {
  return hostPath.slice(hostPath.lastIndexOf("/") + 1);
}
