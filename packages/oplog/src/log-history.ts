/** Questions about the whole log's history: its commits (for `pond show`) and every file any of them added. */
import type { CommitInfo } from "./actions.ts";
import { CommitReader, FETCH_CONCURRENCY, filePath } from "./commit-reader.ts";
import { mapLimit } from "./concurrency.ts";
import { listLog } from "./log-listing.ts";
import type { ObjectStore } from "./object-store.ts";

/** Each commit that still exists, oldest first, with counts of its file actions (for `pond show`). */
export async function listCommits(
  store: ObjectStore,
): Promise<{ version: number; timestamp: number; commitInfo: CommitInfo | null; actions: { add: number; remove: number; bytesAdded: number } }[]> {
  const log = await listLog(store);
  const reader = new CommitReader(store, log);
  const versions = [...log.commits.keys()].sort((a, b) => a - b);
  return mapLimit(versions, FETCH_CONCURRENCY, async (version) => {
    const actions = await reader.actions(version);
    let add = 0;
    let remove = 0;
    let bytesAdded = 0;
    let commitInfo: CommitInfo | null = null;
    for (const a of actions) {
      if ("add" in a) {
        add++;
        bytesAdded += a.add.size;
      } else if ("remove" in a) remove++;
      else if ("commitInfo" in a) commitInfo = a.commitInfo;
    }
    return { version, timestamp: await reader.time(version), commitInfo, actions: { add, remove, bytesAdded } };
  });
}

/**
 * The path of every data file that a commit still in the log added, whether or not a
 * later commit removed it: what time travel to any readable version may need (a file
 * merged away stays readable as of the versions before the merge).
 */
export async function everyAddedPath(store: ObjectStore): Promise<Set<string>> {
  const log = await listLog(store);
  const reader = new CommitReader(store, log);
  const paths = new Set<string>();
  await mapLimit([...log.commits.keys()], FETCH_CONCURRENCY, async (version) => {
    for (const a of await reader.actions(version)) if ("add" in a) paths.add(filePath(a.add, "add", version));
  });
  return paths;
}
