/**
 * `${env:NAME}`: how a secret is named everywhere in Pond (remotes' credentials,
 * collectors' API keys, `pond serve --token`). Settings and flags hold the reference,
 * never the value; the value is read from the environment where it is used.
 */
const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** The variable a `${env:NAME}` reference names; undefined when `value` is not one (e.g. a literal secret). */
export function envRefName(value: string): string | undefined {
  return ENV_REF.exec(value)?.[1];
}
