import { isAsOfText, parseAsOf, type Pond } from "@pond/steward";
import { WD, diffTrees, type TreeChange } from "@pond/tinyfs";
import { QuerySession, resolveSources, selectVersions, sourceVersionKeys, type ResolvedSource, type TLogView } from "@pond/tlogfs";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { diffCommand } from "../commands.ts";
import { renderQuery, type RowFormat } from "../query/render-rows.ts";
import { UsageError } from "../errors.ts";
import { DiffPathNotFoundError, DiffTypeChangeError } from "../command-errors.ts";

/**
 * `pond diff SEQ1 [SEQ2]`: the paths created, changed, removed and moved between two
 * transactions (SEQ2 defaults to now). `pond diff --rows SEQ1 [SEQ2] PATH`: the rows of
 * a table or series inserted and deleted in between, with a `change_type` column.
 */
export async function run(args: ArgsOf<typeof diffCommand>, io: IO): Promise<number> {
  const rest = [...(args.more ?? [])];
  const pond = openPond(args, io);
  const format = args.format;
  if (args.rows) {
    const path = rest.pop();
    if (path === undefined || rest.length > 1) throw new UsageError("diff --rows takes SEQ1 [SEQ2] PATH", "diff", "e.g. pond diff --rows 3 /sensors/t.series");
    const [from, to] = await views(pond, String(args.seq1), rest[0]);
    return rowsDiff(from, to, path, format === "text" ? undefined : (format as RowFormat | undefined), io);
  }
  if (rest.length > 1) throw new UsageError("diff takes SEQ1 [SEQ2]", "diff", "For rows of one table or series: pond diff --rows SEQ1 [SEQ2] PATH");
  const [from, to] = await views(pond, String(args.seq1), rest[0]);
  renderChanges(await diffTrees(from, to), format === "json" ? "json" : "text", io);
  return 0;
}

async function views(pond: Pond, seq1: string, seq2: string | undefined): Promise<[TLogView, TLogView]> {
  // Strictly a sequence or an ISO time: Date.parse alone takes "/t.table@1" as the year 2001.
  for (const seq of [seq1, seq2]) {
    if (seq !== undefined && !isAsOfText(seq)) {
      throw new UsageError(`"${seq}" is not a transaction sequence`, "diff", "Give sequences from `pond log`, then the path: pond diff --rows 3 5 /t.table");
    }
  }
  return [await pond.view(parseAsOf(seq1)), await pond.view(seq2 === undefined ? undefined : parseAsOf(seq2))];
}

/** Prints tree changes: one line each (text), or a JSON array. Used by revert --dry-run too. */
export function renderChanges(changes: TreeChange[], format: "text" | "json", io: IO): void {
  if (format === "json") {
    const rows = changes.map((c) => ({
      change: c.change,
      path: c.path,
      ...(c.fromPath !== undefined ? { from_path: c.fromPath } : {}),
      type: c.entryType,
      ...(c.fromVersion !== undefined ? { from_version: c.fromVersion, from_size: c.fromSize ?? null } : {}),
      ...(c.toVersion !== undefined ? { to_version: c.toVersion, to_size: c.toSize ?? null } : {}),
    }));
    io.out.write(JSON.stringify(rows, null, 2) + "\n");
    return;
  }
  io.out.write(changes.map((c) => describeChange(c) + "\n").join(""));
}

/** One change as a line, as `pond log` notes it. */
export function describeChange(c: TreeChange): string {
  switch (c.change) {
    case "created":
      return `created  ${c.path} (${c.entryType}${c.toVersion !== undefined ? ` v${c.toVersion}, ${c.toSize} bytes` : ""})`;
    case "removed":
      return `removed  ${c.path} (${c.entryType}${c.fromVersion !== undefined ? ` v${c.fromVersion}, ${c.fromSize} bytes` : ""})`;
    case "changed":
      return `changed  ${c.path} (${c.entryType} v${c.fromVersion} -> v${c.toVersion}, ${c.fromSize} -> ${c.toSize} bytes)`;
    case "moved":
      return `moved    ${c.fromPath} -> ${c.path} (${c.entryType})`;
  }
}

/**
 * The rows inserted and deleted between two states of one table or series, as DuckLake's
 * table_changes(): a table compares its two newest versions row for row (a multiset
 * difference); a series, whose versions are append-only, inserts the rows of the
 * versions added in between (and deletes those of versions gone, when it was removed).
 */
async function rowsDiff(from: TLogView, to: TLogView, path: string, format: RowFormat | undefined, io: IO): Promise<number> {
  const side = async (view: TLogView): Promise<ResolvedSource | undefined> => {
    const wd = new WD(view);
    if (!(await wd.resolve(path, { followSymlinks: true }))) return undefined;
    return (await resolveSources(view, wd, path))[0];
  };
  const [a, b] = [await side(from), await side(to)];
  if (!a && !b) throw new DiffPathNotFoundError(path);
  const type = (b ?? a)!.entryType;
  if (a && b && a.entryType !== b.entryType) throw new DiffTypeChangeError(path, a.entryType, b.entryType);
  const session = await QuerySession.open();
  try {
    const parts: string[] = [];
    let empty = "";
    if (type === "file:table") {
      if (a) await session.addPondView("old_rows", [a]);
      if (b) await session.addPondView("new_rows", [b]);
      if (a && b) {
        parts.push("SELECT 'insert' AS change_type, * FROM (SELECT * FROM new_rows EXCEPT ALL SELECT * FROM old_rows)");
        parts.push("SELECT 'delete' AS change_type, * FROM (SELECT * FROM old_rows EXCEPT ALL SELECT * FROM new_rows)");
      } else {
        parts.push(b ? "SELECT 'insert' AS change_type, * FROM new_rows" : "SELECT 'delete' AS change_type, * FROM old_rows");
      }
    } else {
      // Versions by identity (number and own payload hash), so a merge of their files is no change.
      const had = new Set(a ? sourceVersionKeys(a) : []);
      const has = new Set(b ? sourceVersionKeys(b) : []);
      const added = b ? selectVersions(b, (k) => !had.has(k)).files : [];
      const gone = a ? selectVersions(a, (k) => !has.has(k)).files : [];
      if (added.length > 0) {
        await session.addPondView("added", [{ ...b!, files: added }]);
        parts.push("SELECT 'insert' AS change_type, * FROM added");
      }
      if (gone.length > 0) {
        await session.addPondView("gone", [{ ...a!, files: gone }]);
        parts.push("SELECT 'delete' AS change_type, * FROM gone");
      }
      if (parts.length === 0) {
        await session.addPondView("same", [(b ?? a)!]);
        empty = "SELECT 'insert' AS change_type, * FROM same WHERE false";
      }
    }
    await session.lock();
    return await renderQuery(session, empty || parts.join(" UNION ALL BY NAME "), format, io);
  } finally {
    session.close({ last: true });
  }
}
