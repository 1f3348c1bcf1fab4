/**
 * The body of ingest's flush thread (flusher.ts): opens the pond once and writes each
 * flush it is sent as a new version (version-writer.ts), answering with the version and
 * sequence, or the error's code and message. An entry point of the binary's build of its
 * own (packages/cmd/build.ts).
 */
import { PondError } from "@pond/diagnostics";
import { encodeColumns } from "@pond/oplog";
import { Pond } from "@pond/steward";
import { writeVersion, type VersionWrite } from "./version-writer.ts";

declare const self: Worker;

export interface FlushRequest {
  id: number;
  pondDir: string;
  command: string[];
  /** Absent: a warm-up (open the pond, read its log, load the Parquet writer) before the first flush is due. */
  write?: VersionWrite;
}

export type FlushReply =
  | { id: number; version: number; seq: number }
  | { id: number; error: { message: string; code?: string; hint?: string; stack?: string } };

let pond: Pond | undefined;

self.onmessage = async (ev: MessageEvent<FlushRequest>) => {
  const { id, pondDir, command, write } = ev.data;
  try {
    pond ??= Pond.open(pondDir);
    if (!write) {
      await pond.view();
      encodeColumns([{ name: "t", type: "timestamp_us" }], [[0]], { codec: "ZSTD" });
      self.postMessage({ id, version: 0, seq: 0 } satisfies FlushReply);
      return;
    }
    const r = await writeVersion(pond, command, write);
    self.postMessage({ id, ...r } satisfies FlushReply);
  } catch (e) {
    const err = e as Error;
    self.postMessage({
      id,
      error: {
        message: err?.message ?? String(e),
        code: e instanceof PondError ? e.code : undefined,
        hint: e instanceof PondError ? e.hint : undefined,
        stack: err?.stack,
      },
    } satisfies FlushReply);
  }
};
