import { CsvRecordSplitter, Ingester, Registry, firstCsvRecordEnd, ingestOptionsFrom, parseBody, parseKey, type BodyFormat } from "@pond/serve";
import { resolvePondDir } from "@pond/steward";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { ingestCommand } from "../commands.ts";
import { commandLine } from "../context.ts";

type Args = ArgsOf<typeof ingestCommand>;

/**
 * `pond ingest PATH`: streaming ingest from standard input, for pipes. Each chunk of
 * complete lines read is one batch (all or nothing, as one HTTP request is): appended to
 * the write-ahead file and fsynced, then, with --ack, acknowledged on stdout with one JSON
 * line `{lines, accepted, deduplicated}` where `lines` counts the input lines taken so far
 * (a sender that restarts after a crash re-sends from there). Buffers flush to new
 * versions by the thresholds, and at the end of input or on SIGTERM/SIGINT. A bad line
 * stops the command (exit 1) after flushing the batches taken before it.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const options = ingestOptionsFrom(args);
  const key = args.key === undefined ? undefined : parseKey(args.key, "key");
  const ingester = await Ingester.open({ pondDir: resolvePondDir(args.pond, io.env), metrics: new Registry() }, options, commandLine(args));
  const format: BodyFormat = args.format === "csv" ? "csv" : "jsonl";
  let stop = false;
  const reader = Bun.stdin.stream().getReader();
  const onSignal = () => {
    stop = true;
    void reader.cancel();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  let taken = 0; // input lines taken (acknowledged)
  let header: string | undefined; // CSV: the header line, put before each batch
  let carry = ""; // JSON lines: the text after the last newline, for the next read
  const csv = format === "csv" ? new CsvRecordSplitter() : undefined;
  let accepted = 0;
  let deduplicated = 0;
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((e) => {
        if (stop) return { value: undefined, done: true as const };
        throw e;
      });
      const piece = done ? decoder.decode() : decoder.decode(value, { stream: true });
      let batch: string;
      if (csv) {
        // A CSV record ends at a newline outside quotes: a quoted field may hold newlines and
        // a read may end inside it, so the splitter keeps its state across reads.
        batch = csv.push(piece);
        if (done) batch += csv.end();
      } else {
        const text = carry + piece;
        const end = done ? text.length : text.lastIndexOf("\n") + 1;
        carry = text.slice(end);
        batch = text.slice(0, end);
      }
      let lines = countLines(batch, done);
      let firstLine = taken + 1;
      if (csv && header === undefined && batch !== "") {
        const end = firstCsvRecordEnd(batch);
        const headerText = end < 0 ? batch : batch.slice(0, end);
        header = headerText.replace(/\r?\n$/, "");
        batch = end < 0 ? "" : batch.slice(end);
        const headerLines = countLines(headerText, done);
        taken += headerLines;
        lines -= headerLines;
        firstLine += headerLines;
      }
      if (batch.trim() !== "") {
        const body = format === "csv" ? `${header}\n${batch}` : batch;
        const parsed = parseBody(body, format, format === "csv" ? firstLine - countLines(`${header}\n`, false) : firstLine);
        const r = await ingester.accept({
          dest: args.path,
          records: parsed.records,
          unit: parsed.unit,
          fromText: format === "csv",
          bytes: batch.length,
          ...(key ? { key } : {}),
          ...(args.timestampColumn ? { timestampColumn: args.timestampColumn } : {}),
          ...(args.dedupSequence ? { sequence: args.dedupSequence } : {}),
        });
        accepted += r.accepted;
        deduplicated += r.deduplicated;
        taken += lines;
        if (args.ack) io.out.write(`${JSON.stringify({ lines: taken, accepted: r.accepted, deduplicated: r.deduplicated })}\n`);
      } else {
        taken += lines;
      }
      if (done || stop) break;
    }
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    const flushed = await ingester.close();
    for (const f of flushed) io.err.write(`pond: ingest: flushed ${f.rows} rows into ${f.destination} (version ${f.version})\n`);
  }
  io.err.write(`pond: ingest: ${accepted} rows accepted, ${deduplicated} deduplicated, into ${args.path}\n`);
  return 0;
}

/** The lines in `text`: its newlines, plus one for a last line without one at the end of input. */
function countLines(text: string, atEnd: boolean): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  if (atEnd && text !== "" && !text.endsWith("\n")) n++;
  return n;
}
