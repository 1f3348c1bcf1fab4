import { writeSync } from "node:fs";
import { isSystemError, isattyLibc } from "@pond/diagnostics";

/**
 * Where a command writes. stdout carries data only (byte-exact for `cat`); stderr
 * carries messages. Injectable so tests can call commands directly.
 */
export interface IO {
  out: Sink;
  err: Sink;
  /** Whether stdout / stderr are terminals (tables and progress bars only then). */
  outIsTTY: boolean;
  errIsTTY: boolean;
  cwd: string;
  env: Record<string, string | undefined>;
}

export interface Sink {
  write(data: Uint8Array | string): void;
}

/** Writes to a file descriptor synchronously, waiting out EAGAIN on non-blocking pipes. */
export function fdSink(fd: number): Sink {
  const enc = new TextEncoder();
  return {
    write(data) {
      const bytes = typeof data === "string" ? enc.encode(data) : data;
      let off = 0;
      while (off < bytes.length) {
        try {
          off += writeSync(fd, bytes, off, bytes.length - off);
        } catch (e) {
          if (isSystemError(e, "EAGAIN")) {
            Bun.sleepSync(1);
            continue;
          }
          if (isSystemError(e, "EPIPE")) process.exit(0); // reader went away (| head): stop quietly
          throw e;
        }
      }
    },
  };
}

/**
 * A sink that gathers small writes and hands them to `sink` about `chars` characters at a
 * time; `flush` writes the rest. For output of hundreds of thousands of lines (a cleanup's
 * report at 100,000 versions): a write, and an encoded copy, a line was ~60 MiB of garbage.
 */
export function bufferedSink(sink: Sink, chars = 1 << 16): Sink & { flush(): void } {
  let pending: string[] = [];
  let length = 0;
  const flush = () => {
    if (pending.length === 0) return;
    sink.write(pending.join(""));
    pending = [];
    length = 0;
  };
  return {
    write(data) {
      if (typeof data !== "string") {
        flush();
        sink.write(data);
        return;
      }
      pending.push(data);
      length += data.length;
      if (length >= chars) flush();
    },
    flush,
  };
}

/**
 * isatty(3) through libc. `process.stdout.isTTY` builds Node's stream machinery (~9 ms,
 * and `node:tty` ~10 ms) before answering; this costs ~2.5 ms, and only when asked.
 * Where libc cannot be opened, Node's streams answer instead.
 */
export function isatty(fd: number): boolean {
  return isattyLibc(fd) ?? Boolean((fd === 1 ? process.stdout : process.stderr).isTTY);
}

export function processIO(): IO {
  let outTTY: boolean | undefined, errTTY: boolean | undefined;
  return {
    out: fdSink(1),
    err: fdSink(2),
    get outIsTTY() {
      return (outTTY ??= isatty(1));
    },
    get errIsTTY() {
      return (errTTY ??= isatty(2));
    },
    cwd: process.cwd(),
    env: process.env,
  };
}

/** A captured IO for tests. */
export function memoryIO(
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
): IO & { stdout(): string; stderr(): string; stdoutBytes(): Uint8Array } {
  const out: Uint8Array[] = [],
    err: Uint8Array[] = [];
  const enc = new TextEncoder();
  const sink = (into: Uint8Array[]): Sink => ({ write: (d) => void into.push(typeof d === "string" ? enc.encode(d) : d.slice()) });
  return {
    out: sink(out),
    err: sink(err),
    outIsTTY: false,
    errIsTTY: false,
    cwd,
    env,
    stdoutBytes: () => Buffer.concat(out),
    stdout: () => Buffer.concat(out).toString("utf8"),
    stderr: () => Buffer.concat(err).toString("utf8"),
  };
}
