import { addRemote, listRemotes, removeRemote } from "@pond/steward";
import { openPond } from "../context.ts";
import { UsageError } from "../args.ts";
import type { IO } from "../io.ts";
import { credentialOptions } from "../remote-cli.ts";
import { renderRows } from "../render-table.ts";
import type { ArgsOf } from "../args.ts";
import type { remoteCommand } from "../commands.ts";

type Args = ArgsOf<typeof remoteCommand>;

/** `pond remote add NAME URL | list | remove NAME`. */
export async function run(args: Args, io: IO): Promise<number> {
  const action = args.action;
  const pond = openPond(args, io);
  const name = args.name;
  if (action === "list") {
    const rows = listRemotes(pond).map((r) => ({
      name: r.name,
      url: r.url,
      endpoint: r.endpoint ?? null,
      mode: r.mode,
      last_pushed: r.lastPushed?.version ?? null,
      last_pushed_at: r.lastPushed?.at ?? null,
      last_pulled: r.lastPulled?.version ?? null,
      last_pulled_at: r.lastPulled?.at ?? null,
      credentials: r.credentials ? Object.values(r.credentials).join(" ") : null,
    }));
    renderRows(io, rows, ["name", "url", "endpoint", "mode", "last_pushed", "last_pulled", "credentials"], args.format);
    return 0;
  }
  if (name === undefined) throw usage(`pond remote ${action} needs a remote NAME`);
  if (action === "add") {
    if (args.url === undefined) throw usage("pond remote add needs a NAME and a URL (s3://bucket/prefix or file:///folder)");
    const r = await addRemote(pond, {
      name,
      url: args.url,
      endpoint: args.endpoint,
      region: args.region,
      mode: args.mode,
      credentials: credentialOptions(args),
    });
    io.out.write(`Added remote ${r.name}: ${r.url}${r.endpoint ? ` at ${r.endpoint}` : ""} (mode ${r.mode})\n`);
    if (r.mode === "pull") io.out.write(`This pond is now a read-only mirror of ${r.name}; bring it up to date with \`pond pull ${r.name}\`.\n`);
    else io.out.write(`Upload the pond with \`pond push ${r.name}\`${r.mode === "push" ? "; after that, every write pushes too" : ""}.\n`);
    return 0;
  }
  if (action === "remove") {
    const { removed, wasMirror } = await removeRemote(pond, name);
    io.out.write(`Removed remote ${removed.name} (${removed.url}); its objects were left where they are.\n`);
    if (wasMirror) io.out.write("This pond is no longer a mirror: it is writable.\n");
    return 0;
  }
  throw usage(`Unknown action "${action}": use add, list or remove`);
}

function usage(message: string): UsageError {
  return new UsageError(message, "remote");
}
