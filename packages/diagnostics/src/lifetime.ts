/**
 * Whether this process ends as soon as its command returns: true in the `pond` binary
 * (its entry point says so), false in tests and anything else that runs commands in a
 * process that goes on. Work whose only effect is handing memory back to the system
 * can then be left to the exit: tearing down DuckDB's instance takes 10–20 ms.
 */
let oneShot = false;

export function markOneShotProcess(): void {
  oneShot = true;
}

export function isOneShotProcess(): boolean {
  return oneShot;
}
