import { PondError } from "@pond/diagnostics";
import type { EntryType, VersionOptions } from "@pond/tinyfs";

// Tables and series arrive with the SQL layer (issue 4). Until then a clear error.
export async function prepareIngest(src: { raw: string }, _args: Record<string, unknown>): Promise<{ entryType: EntryType; content: Uint8Array; options: VersionOptions }> {
  throw new PondError("not_supported", `Storing "${src.raw}" as a table or series is not supported by this build yet`, {
    hint: "Copy it with host:///… to store its raw bytes.",
  });
}
