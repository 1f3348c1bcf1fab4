import { isoMicros, openPond, readWD } from "../context.ts";
import type { IO } from "../io.ts";
import { jsonValue, renderRows } from "../render-table.ts";
import type { ArgsOf } from "../args.ts";
import type { describeCommand } from "../commands.ts";

type Args = ArgsOf<typeof describeCommand>;

/** `pond describe PATH`: entry type, node id, and every version. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const { view, wd } = await readWD(pond, args);
  const st = await wd.stat(args.path);
  const versions = st.entryType === "directory" ? [] : (st.versions ?? (await view.versions(st.parentId, st.nodeId)));
  const rows = versions.map((v) => ({
    version: v.version,
    size: v.size,
    sha256: v.sha256,
    time: isoMicros(v.timestamp),
    txn: v.txnSeq ?? null,
    ...(v.minEventTime != null ? { min_event_time: isoMicros(v.minEventTime), max_event_time: isoMicros(v.maxEventTime!) } : {}),
  }));
  for (const [i, v] of versions.entries()) if (typeof v.attributes.rows === "number") Object.assign(rows[i]!, { rows: v.attributes.rows });
  let schema: { columns: { name: string; type: string }[]; rows: number; timestampColumn?: string } | undefined;
  if (st.entryType === "file:table" || st.entryType === "file:series") {
    const { describeSchema } = await import("../query/describe-schema.ts");
    schema = await describeSchema(view, st, versions);
  }
  if (args.format === "json") {
    io.out.write(
      JSON.stringify(
        { path: st.path, type: st.entryType, node_id: st.nodeId, parent_id: st.parentId, ...(schema ? { schema } : {}), versions: rows },
        jsonValue,
        2,
      ) + "\n",
    );
    return 0;
  }
  io.out.write(`path     ${st.path}\ntype     ${st.entryType}\nnode id  ${st.nodeId}\n`);
  if (st.entryType === "directory") {
    const children = await wd.list(st.path);
    io.out.write(`entries  ${children.length}\n`);
    return 0;
  }
  io.out.write(`versions ${versions.length}\n`);
  if (schema) {
    io.out.write(`rows     ${schema.rows}\n`);
    if (schema.timestampColumn) io.out.write(`time     ${schema.timestampColumn}\n`);
    io.out.write(`columns\n`);
    for (const c of schema.columns) io.out.write(`  ${c.name}  ${c.type}\n`);
  }
  io.out.write("\n");
  const cols = ["version", "size", "sha256", "time", "txn"];
  if (schema) cols.push("rows");
  if (st.entryType === "file:series") cols.push("min_event_time", "max_event_time");
  renderRows(io, rows, cols, "text");
  return 0;
}
