import { PondError } from "@pond/diagnostics";

/** A pond data table that is not in the shape tlogfs writes. */
export class PondFormatError extends PondError {
  constructor(what: string, detail: string) {
    super("pond_format", `${what}: ${detail}`, {
      kind: "integrity",
      data: { what },
      hint: "This folder may not be a pond, or was written by a newer version of pond.",
    });
  }
}
