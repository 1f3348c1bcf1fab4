import { CollectConfigError, MissingSecretError } from "./errors.ts";

/** The same reference syntax remotes use (steward's remote-config): `${env:NAME}`, nothing else. */
const REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Checks a secret setting: it must be a `${env:NAME}` reference. A literal is refused,
 * and the message does not repeat it (it may be a real secret pasted by mistake).
 */
export function checkSecretRef(file: string, key: string, value: unknown): string {
  if (typeof value !== "string" || !REF.test(value)) {
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
  const name = REF.exec(ref)![1]!;
  const v = env[name];
  if (v === undefined || v === "") throw new MissingSecretError(file, key, name);
  return v;
}
