/**
 * Full garbage collections where a long pass over a pond leaves garbage faster than JSC
 * collects it. JSC grows its heap to hold a phase's garbage (each commit's parsed actions,
 * each file's stat, each row parsed and dropped) and the process keeps those pages; collected
 * before the next phase, they are reused instead of the heap growing again. At 100,000
 * versions, cleanup's scan, its 300,000 deletions and the row-cache prune each grew the heap
 * by a hundred MB or more before these. A collection costs tens of ms.
 */
export function collectGarbage(): void {
  Bun.gc(true);
}

/**
 * A function that runs collectGarbage each time its calls' weights (1 unless given: a step,
 * or the bytes a step parsed) add up to `n`: for a loop over every file of a pond, or every
 * row of a cache.
 */
export function garbageEvery(n: number): (weight?: number) => void {
  let since = 0;
  return (weight = 1) => {
    since += weight;
    if (since < n) return;
    since = 0;
    collectGarbage();
  };
}
