import { envRefName } from "@pond/steward";
import { CollectConfigError, MissingSecretError } from "./errors.ts";

// The reference syntax is steward's (env-ref.ts), the same for remotes and `pond serve --token`.

/**
 * Checks a secret setting: it must be a `${env:NAME}` reference. A literal is refused,
 * and the message does not repeat it (it may be a real secret pasted by mistake).
 */
export function checkSecretRef(file: string, key: string, value: unknown): string {
  if (typeof value !== "string" || envRefName(value) === undefined) {
    throw new CollectConfigError(
      file,
      key,
      "a secret must be a ${env:NAME} reference; a literal value is refused and was not stored",
      `Write ${key}: \${env:SOME_VARIABLE} and set SOME_VARIABLE where pond collect runs.`,
    );
  }
  return value;
}

/** The value of a checked reference from `env`; an unset or empty variable is MissingSecretError naming it. */
export function resolveSecretRef(file: string, key: string, ref: string, env: Record<string, string | undefined>): string {
  const name = envRefName(ref)!;
  const v = env[name];
  if (v === undefined || v === "") throw new MissingSecretError(file, key, name);
  return v;
}
