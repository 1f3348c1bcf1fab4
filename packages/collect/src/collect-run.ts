import type { Progress } from "@pond/diagnostics";
import type { Pond } from "@pond/steward";

/** What a collector gets to run with: capabilities passed in, never globals. */
export interface CollectContext {
  pond: Pond;
  /** Where `${env:NAME}` references are resolved. */
  env: Record<string, string | undefined>;
  /** The command line recorded in the pond's history. */
  command: string[];
  dryRun: boolean;
  progress: Progress;
  /** The fetch HTTP clients use (default: the global one). */
  fetch?: typeof fetch;
}

/** One line of `pond collect`'s output, per config. */
export interface CollectSummary {
  file: string;
  kind: string;
  ok: boolean;
  rowsAdded: number;
  versionsAdded: number;
  /** Event-time range of the rows added (ISO 8601), when any. */
  start?: string;
  end?: string;
  requests: number;
  /** The transaction that holds the new versions. */
  seq?: number;
  /** Inbox: files imported now, skipped as unreadable (on_error: skip), already imported or skipped before. */
  files?: { imported: number; skipped: number; known: number };
  /** Things worth a line: devices cut short by max_points_per_run, files skipped. */
  notes: string[];
  /** --dry-run: what would be fetched, one line each. */
  plan?: string[];
  error?: string;
}

export function emptySummary(file: string, kind: string): CollectSummary {
  return { file, kind, ok: true, rowsAdded: 0, versionsAdded: 0, requests: 0, notes: [] };
}

/** µs since the epoch → ISO 8601 UTC to the second. */
export function isoFromMicros(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function isoFromSeconds(s: number): string {
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
