import { listPattern } from "@pond/tinyfs";
import { isoMicros, openPond, readWD } from "../context.ts";
import type { IO } from "../io.ts";
import { renderRows } from "../render-table.ts";
import type { ArgsOf } from "../args.ts";
import type { listCommand } from "../commands.ts";

type Args = ArgsOf<typeof listCommand>;

/** `pond list [PATTERN] [-l] [-a]`: one absolute pond path per line, sorted. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const { view, wd } = await readWD(pond, args);
  const matches = await listPattern(wd, args.pattern, { dot: args.all });
  const format = args.format;
  if (!args.long && format === "text") {
    io.out.write(matches.map((m) => m.path + "\n").join(""));
    return 0;
  }
  const rows: Record<string, unknown>[] = [];
  for (const m of matches) {
    const row: Record<string, unknown> = { path: m.path, type: m.entryType, version: m.versionLastModified, size: null, time: null };
    if (m.entryType === "file:series") {
      // A series' newest version from its summary, not from every version (see series-summary.ts).
      const s = await view.seriesSummary(m.parentId, m.nodeId);
      Object.assign(row, { version: s.lastVersion, size: s.newestSize, time: isoMicros(BigInt(s.newestTimestamp)) });
    } else if (m.entryType !== "directory") {
      const versions = await view.versions(m.parentId, m.nodeId);
      const last = versions[versions.length - 1]!;
      Object.assign(row, { version: last.version, size: last.size, time: isoMicros(last.timestamp) });
      // As ls -l: a link shows where it points (text only; other formats keep their columns).
      if (m.entryType === "symlink" && format === "text") row.path = `${m.path} -> ${await wd.readlink(m.path)}`;
    }
    rows.push(row);
  }
  if (format === "text" && !args.long) return 0;
  renderRows(io, rows, ["type", "size", "version", "time", "path"], format === "text" ? "text" : format);
  return 0;
}
