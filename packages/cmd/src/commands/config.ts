import { CONFIG_KEYS, readConfig, setConfig } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { configCommand } from "../commands.ts";
import { ConfigSetArgsError } from "../errors.ts";

/** `pond config` shows every setting; `pond config set KEY VALUE` changes one (validated). */
export async function run(args: ArgsOf<typeof configCommand>, io: IO): Promise<number> {
  const pond = openPond(args, io);
  if (args.action === "set") {
    if (args.key === undefined || args.value === undefined) {
      throw new ConfigSetArgsError();
    }
    setConfig(pond.paths.control, args.key, args.value);
    io.out.write(`${args.key} = ${args.value}\n`);
    return 0;
  }
  const set = readConfig(pond.paths.control);
  const rows = CONFIG_KEYS.map((k) => ({
    key: k.key,
    value: set[k.key] ?? k.default ?? null,
    source: set[k.key] !== undefined ? "set" : k.default !== undefined ? "default" : "unset",
    describe: k.describe,
  }));
  if (args.format === "json") {
    io.out.write(JSON.stringify(rows, null, 2) + "\n");
    return 0;
  }
  for (const r of rows) io.out.write(`${r.key} = ${r.value ?? "(unset)"}  [${r.source}]  ${r.describe}\n`);
  return 0;
}
