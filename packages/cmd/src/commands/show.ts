import { listCommits } from "@pond/oplog";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { renderRows } from "../render-table.ts";
import type { ArgsOf } from "../args.ts";
import type { showCommand } from "../commands.ts";

type Args = ArgsOf<typeof showCommand>;

/** `pond show`: the data log's commits. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const commits = await listCommits(pond.persistence.store);
  const rows = commits.map((c) => {
    const p = (c.commitInfo?.pond ?? {}) as { command?: string[] };
    return {
      version: c.version,
      time: new Date(c.timestamp).toISOString(),
      operation: c.commitInfo?.operation ?? null,
      adds: c.actions.add,
      removes: c.actions.remove,
      bytes_added: c.actions.bytesAdded,
      command: p.command?.join(" ") ?? null,
    };
  });
  renderRows(io, rows, ["version", "time", "operation", "adds", "removes", "bytes_added", "command"], args.format);
  return 0;
}
