/**
 * Where CSV records end in text that arrives in pieces (standard input read in chunks):
 * a record ends at a newline outside quotes. A quote opens a quoted field only at the start
 * of a field (as `parseBody`'s CSV parser reads it); inside one, `""` is a quote and a
 * newline is part of the field. CRLF needs nothing special: the `\r` stays with its record.
 * The scanner keeps its state across pieces, so a piece may end anywhere, even between
 * the two quotes of an escape.
 */

/** Where the scanner is: at a field's start, in an unquoted field, in a quoted one, or just after a quote inside one. */
type State = "start" | "plain" | "quoted" | "quote";

/**
 * Splits text fed in pieces into complete CSV records. `push(piece)` returns the records
 * completed so far (each with its newline) as one string, and keeps the rest for the next
 * piece; `end()` returns what is left at the end of input (a last record without a newline,
 * or an unclosed quoted field for the parser to report).
 */
export class CsvRecordSplitter {
  private pending = "";
  /** How much of `pending` has been scanned; `state` is the state after it. */
  private scanned = 0;
  private state: State = "start";

  /** Feeds `piece`; returns the complete records it finished (possibly ""). */
  push(piece: string): string {
    this.pending += piece;
    const r = scan(this.pending, this.scanned, this.state, false);
    this.state = r.state;
    const out = this.pending.slice(0, r.end);
    this.pending = this.pending.slice(r.end);
    this.scanned = this.pending.length;
    return out;
  }

  /** The text after the last complete record, at the end of input. */
  end(): string {
    const rest = this.pending;
    this.pending = "";
    this.scanned = 0;
    this.state = "start";
    return rest;
  }
}

/** The end (after its newline) of the first complete CSV record in `text`, or -1 when none ends in it. */
export function firstCsvRecordEnd(text: string): number {
  const r = scan(text, 0, "start", true);
  return r.end === 0 ? -1 : r.end;
}

/**
 * Scans `text` from `from` in state `state`: the state at its end, and the end (after its
 * newline) of the last complete record (the first, when `first`), 0 when none ends.
 */
function scan(text: string, from: number, state: State, first: boolean): { state: State; end: number } {
  let s = state;
  let end = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (s === "quoted") {
      if (c === QUOTE) s = "quote";
    } else if (c === NEWLINE) {
      s = "start";
      end = i + 1;
      if (first) break;
    } else if (c === COMMA) {
      s = "start";
    } else if (s === "quote") {
      s = c === QUOTE ? "quoted" : "plain"; // "" is an escaped quote; other text after a closing quote is the parser's error to name
    } else if (s === "start") {
      s = c === QUOTE ? "quoted" : "plain";
    }
  }
  return { state: s, end };
}

const QUOTE = 34;
const NEWLINE = 10;
const COMMA = 44;
