import { mkdirSync, readdirSync, closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { PondError, silentProgress, terminalProgress, type Progress } from "@pond/diagnostics";
import type { Pond } from "@pond/steward";
import { NotFoundError, WD, listPattern, normalizePath, parsePath, type EntryType } from "@pond/tinyfs";
import type { TLogView } from "@pond/tlogfs";
import { commandLine, openPond, readWD } from "../context.ts";
import { parseEndpoint, type Endpoint } from "../endpoint.ts";
import { readHostFile, statHost } from "../host-files.ts";
import type { IO } from "../io.ts";

type HostEndpoint = Extract<Endpoint, { kind: "host" }>;

/**
 * `pond copy SRC... DEST`. Into the pond: host files and folders (recursively), all
 * in one transaction. Out of the pond: pond paths or globs to `host:///dir`, each file
 * written under its full pond path there.
 */
export async function run(args: Record<string, unknown>, io: IO): Promise<number> {
  const all = (args.sources as string[]).map((s) => parseEndpoint(s, io.cwd));
  if (all.length < 2) {
    throw new PondError("usage", "copy needs at least one source and a destination", { kind: "usage", hint: "pond copy host:///path/file.csv /dest" });
  }
  const dest = all[all.length - 1]!;
  const sources = all.slice(0, -1);
  const pond = openPond(args, io);
  if (dest.kind === "host") return copyOut(pond, sources, dest, args);
  const bad = sources.find((s) => s.kind !== "host");
  if (bad) {
    throw new PondError("usage", `Source "${bad.raw}" is a pond path; copying into the pond takes host files`, {
      kind: "usage",
      hint: "Name host files as host:///absolute/path or host:relative/path; to copy out, make the destination host:///dir.",
    });
  }
  return copyIn(pond, sources as HostEndpoint[], dest.path, args, io.errIsTTY ? terminalProgress("copy") : silentProgress);
}

async function copyIn(pond: Pond, sources: HostEndpoint[], dest: string, args: Record<string, unknown>, progress: Progress): Promise<number> {
  // Check every source before anything is written, so a typo changes nothing.
  const stats = sources.map((s) => ({ src: s, ...statHost(s.path, s.raw) }));
  for (const s of stats) {
    if (s.isDirectory && s.src.format !== "data") {
      throw new PondError("usage", `"${s.src.raw}" is a folder; host+${s.src.format}: takes one file`, { kind: "usage", hint: "Name the files, or copy the folder with host: to store raw bytes." });
    }
  }
  const parents = Boolean(args.parents);
  const staging = join(pond.paths.data, "_large_files");
  const series = sources.every((s) => s.format === "series" || s.format === "series+csv");
  progress.total(undefined, stats.reduce((a, s) => a + (s.isDirectory ? 0 : s.size), 0) || undefined);
  try {
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    const destPath = parsePath(dest);
    const existing = await wd.resolve(destPath.absolute, { followSymlinks: true });
    const intoDir = existing?.entryType === "directory" || (!existing && destPath.trailingSlash);
    if (intoDir) {
      if (!existing) await wd.mkdir(destPath.absolute, { parents });
      for (const s of stats) await copyTree(wd, s.src, joinPond(destPath.absolute, baseName(s.src.path)), s.isDirectory, args, note, progress, staging);
    } else if (existing || sources.length === 1 || series) {
      for (const s of stats) {
        if (s.isDirectory) throw new PondError("wrong_type", `Cannot copy folder "${s.src.raw}" onto file "${destPath.absolute}"`, { hint: "Copy it into a directory instead." });
        await copyFile(wd, s.src, destPath.absolute, args, note, parents, progress, staging);
      }
    } else {
      throw new NotFoundError(`Directory "${destPath.absolute}"`, `To copy several sources, create it first (\`pond mkdir ${destPath.absolute}\`) or write "${destPath.absolute}/" with -p.`);
    }
  });
  } finally {
    progress.done();
  }
  return 0;
}

/** Passes chunks through, reporting their bytes (and one file at the end). */
async function* counted(it: AsyncIterable<Uint8Array>, progress: Progress): AsyncIterable<Uint8Array> {
  for await (const chunk of it) {
    progress.tick(0, chunk.length);
    yield chunk;
  }
  progress.tick(1, 0);
}

async function copyTree(wd: WD, src: HostEndpoint, target: string, isDir: boolean, args: Record<string, unknown>, note: (c: string) => void, progress: Progress, staging: string): Promise<void> {
  if (!isDir) return copyFile(wd, src, target, args, note, false, progress, staging);
  const existing = await wd.resolve(target);
  if (!existing) {
    await wd.mkdir(target);
    note(`mkdir ${target}`);
  }
  const names = readdirSync(src.path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const child: HostEndpoint = { ...src, path: join(src.path, d.name), raw: `${src.raw}/${d.name}` };
    const st = statHost(child.path, child.raw); // follows host symlinks
    await copyTree(wd, child, joinPond(target, d.name), st.isDirectory, args, note, progress, staging);
  }
}

/** `staging`: where a CSV's Parquet is written, beside the pond's large files, so the store takes the file itself. */
async function copyFile(wd: WD, src: HostEndpoint, target: string, args: Record<string, unknown>, note: (c: string) => void, parents: boolean, progress: Progress, staging: string): Promise<void> {
  let entryType: EntryType = "file:data";
  let content: AsyncIterable<Uint8Array> | Uint8Array;
  let opts = {};
  let cleanup = () => {};
  if (src.format === "data") {
    content = counted(readHostFile(src.path), progress);
  } else {
    const { prepareIngest } = await import("../query/ingest.ts");
    const prepared = await prepareIngest(src, args, staging);
    entryType = prepared.entryType;
    content = prepared.content;
    opts = prepared.options;
    cleanup = prepared.cleanup;
  }
  try {
    const r = await wd.createFile(target, entryType, content, { ...opts, parents });
    note(`${r.created ? "created" : "updated"} ${r.resolved.path} (${entryType} v${r.version.version}, ${r.version.size} bytes)`);
  } finally {
    cleanup();
  }
}

async function copyOut(pond: Pond, sources: Endpoint[], dest: HostEndpoint, args: Record<string, unknown>): Promise<number> {
  const bad = sources.find((s) => s.kind !== "pond");
  if (bad) throw new PondError("usage", `Source "${bad.raw}" is a host file; copying out takes pond paths`, { kind: "usage", hint: "Use cp(1) to copy between host folders." });
  const { view, wd } = await readWD(pond, args);
  // Resolve every source first: a missing one fails before anything is written.
  const files: { path: string; parentId: string; nodeId: string }[] = [];
  for (const s of sources) {
    const matches = await listPattern(wd, s.path, { dot: true });
    if (matches.length === 0) throw new NotFoundError(`"${s.path}"`, "Check it with `pond list`.");
    for (const m of matches) {
      if (m.entryType === "directory") {
        for await (const w of wd.walk(m.path)) if (w.entry.entryType !== "directory") files.push({ path: w.path, parentId: w.parentId, nodeId: w.entry.childNodeId });
      } else {
        files.push({ path: m.path, parentId: m.parentId, nodeId: m.nodeId });
      }
    }
  }
  // Check every payload before writing any: with one damaged, nothing lands on the host.
  await view.checkFilePayloads(files);
  for (const f of files) await writeOut(view, f, join(dest.path, f.path));
  return 0;
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

