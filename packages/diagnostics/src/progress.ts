/**
 * Progress reporting for long work. Libraries call `tick`/`total` on a Progress they
 * were given; only the CLI creates a visible bar (on a terminal stderr). The default
 * is silent.
 */
export interface Progress {
  /** Sets the expected totals (either may be unknown). */
  total(files: number | undefined, bytes: number | undefined): void;
  /** Reports work done since the last call. */
  tick(files: number, bytes: number): void;
  /** Finishes the bar (clears the line on a terminal). */
  done(): void;
}

export const silentProgress: Progress = { total() {}, tick() {}, done() {} };

/** A one-line bar on stderr, redrawn at most 10 times a second. */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let files = 0,
    bytes = 0,
    totalFiles: number | undefined,
    totalBytes: number | undefined,
    last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = 24;
    const frac = totalBytes ? Math.min(1, bytes / totalBytes) : totalFiles ? Math.min(1, files / totalFiles) : 0;
    const filled = Math.round(frac * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const f = totalFiles !== undefined ? `${files}/${totalFiles} files` : `${files} files`;
    const b = totalBytes !== undefined ? `${fmtBytes(bytes)}/${fmtBytes(totalBytes)}` : fmtBytes(bytes);
    stream.write(`\r${label} [${bar}] ${f} ${b}\x1b[K`);
  };
  return {
    total(f, b) {
      totalFiles = f;
      totalBytes = b;
      draw(true);
    },
    tick(f, b) {
      files += f;
      bytes += b;
      draw();
    },
    done() {
      draw(true);
      stream.write("\n");
    },
  };
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0,
    v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
