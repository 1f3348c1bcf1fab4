/**
 * Leveled, structured logging to stderr, never stdout (stdout carries data).
 * `POND_LOG=error|warn|info|debug` sets the level (default warn);
 * `POND_LOG_FORMAT=json` prints one JSON object a line. Library packages log
 * events through a Logger passed in or through `logger`; they never print otherwise.
 */
export type Level = "error" | "warn" | "info" | "debug";
const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  debug(event: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

export interface LoggerOptions {
  level?: Level;
  format?: "text" | "json";
  write?: (line: string) => void;
  now?: () => Date;
}

function parseLevel(v: string | undefined): Level {
  if (v === undefined || v === "") return "warn";
  if (v in RANK) return v as Level;
  // An unknown level is a configuration mistake worth one line, not a crash.
  process.stderr.write(`pond: POND_LOG="${v}" is not one of error, warn, info, debug; using warn\n`);
  return "warn";
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? parseLevel(process.env.POND_LOG);
  const format = opts.format ?? (process.env.POND_LOG_FORMAT === "json" ? "json" : "text");
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = opts.now ?? (() => new Date());
  const emit = (lv: Level, event: string, fields: Record<string, unknown> = {}) => {
    if (RANK[lv] > RANK[level]) return;
    if (format === "json") {
      write(JSON.stringify({ time: now().toISOString(), level: lv, event, ...fields }, jsonSafe));
    } else {
      const kv = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, jsonSafe)}`)
        .join(" ");
      write(`pond ${lv}: ${event}${kv ? " " + kv : ""}`);
    }
  };
  return {
    error: (e, f) => emit("error", e, f),
    warn: (e, f) => emit("warn", e, f),
    info: (e, f) => emit("info", e, f),
    debug: (e, f) => emit("debug", e, f),
    enabled: (lv) => RANK[lv] <= RANK[level],
  };
}

function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

/** The process-wide logger, configured from the environment. */
export const logger: Logger = createLogger();
