/**
 * Who may talk to the server. A loopback bind (127.0.0.0/8, ::1, localhost) may run
 * without a token; any other bind needs one, given as a `${env:NAME}` reference (the
 * value never appears on the command line, in `ps`, or in a log). With a token, every
 * request needs `Authorization: Bearer <token>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { envRefName } from "@pond/steward";
import { BadListenError, BadTokenError, UnauthorizedError } from "./errors.ts";

export interface ListenAddress {
  hostname: string;
  port: number;
}

/** `HOST:PORT` (`[v6]:PORT` for IPv6); port 0 takes any free port. */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new BadListenError(value);
  return { hostname: m[1] ?? m[2]!, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The token the server requires, from `--token`'s reference; undefined when none is
 * needed and none was given. BadTokenError for a literal, an unset variable, or a
 * non-loopback bind with no token.
 */
export function resolveToken(listen: ListenAddress, tokenRef: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (tokenRef === undefined) {
    if (isLoopback(listen.hostname)) return undefined;
    throw new BadTokenError(
      `Listening on ${listen.hostname} (not loopback) needs a token`,
      "Start with --token '${env:POND_TOKEN}' and POND_TOKEN set, or listen on 127.0.0.1.",
    );
  }
  const name = envRefName(tokenRef);
  if (name === undefined) {
    throw new BadTokenError(
      "--token must be a reference like '${env:POND_TOKEN}'; a literal token is refused (it would show in ps and shell history)",
      "Put the token in an environment variable and pass --token '${env:NAME}' (single quotes, so the shell leaves it alone).",
    );
  }
  const v = env[name];
  if (v === undefined || v === "")
    throw new BadTokenError(`--token refers to \${env:${name}}, which is not set`, `Set ${name} to the token, then start the server again.`);
  return v;
}

/** Checks a request's Authorization header against `token` in constant time; UnauthorizedError when it does not match. */
export function checkBearer(header: string | null, token: string): void {
  const m = header === null ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) throw new UnauthorizedError("missing");
  // Hashing first makes both sides the same length, so timingSafeEqual never leaks the token's length.
  const given = createHash("sha256").update(m[1]!).digest();
  const want = createHash("sha256").update(token).digest();
  if (!timingSafeEqual(given, want)) throw new UnauthorizedError("wrong");
}
