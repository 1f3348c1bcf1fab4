/**
 * What the backup commands (remote, push, pull, restore, verify, status) share: the
 * credential-reference options, progress bars on a terminal, and how a transfer is
 * summed up in one line.
 */
import { fmtBytes, silentProgress, terminalProgress, type Progress } from "@pond/diagnostics";
import type { CredentialRefs } from "@pond/steward";
import type { IO } from "./io.ts";

/** `--access-key-id` etc. as given (each must be a `${env:NAME}` reference; steward refuses literals). */
export function credentialOptions(args: {
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
}): CredentialRefs | undefined {
  const refs: CredentialRefs = {};
  const a = args.accessKeyId;
  const s = args.secretAccessKey;
  const t = args.sessionToken;
  if (a !== undefined) refs.accessKeyId = a;
  if (s !== undefined) refs.secretAccessKey = s;
  if (t !== undefined) refs.sessionToken = t;
  return Object.keys(refs).length ? refs : undefined;
}

/** A files-and-bytes bar on stderr when it is a terminal; silent otherwise. */
export function progressFor(io: IO, label: string): Progress {
  return io.errIsTTY ? terminalProgress(label) : silentProgress;
}

export function versions(from: number | null, to: number): string {
  if (from === null || from < 0) return to === 0 ? "version 0" : `versions 0–${to}`;
  return from + 1 === to ? `version ${to}` : `versions ${from + 1}–${to}`;
}

export function amount(files: number, bytes: number): string {
  return `${files} file${files === 1 ? "" : "s"}, ${fmtBytes(bytes)}`;
}
