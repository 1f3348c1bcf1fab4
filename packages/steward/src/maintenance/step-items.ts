/** One file a maintenance step touched (or, on a dry run, would touch). */
export interface StepItem {
  key: string;
  size: number;
  why: string;
  /** Set where an item is not what its step does to files by default (cleanup deletes; a rotation archives). */
  action?: "archived";
}

/** Items made on demand: `at(i)` builds the i-th (an array is one). */
export interface ItemSource {
  readonly length: number;
  at(i: number): StepItem | undefined;
}

/**
 * A step's items, in order, as a list of parts each of which is an array or a source that
 * makes its items when asked. Cleanup's part is its file table (file-table.ts): at 100,000
 * versions it deletes ~300,000 files, and an object a file, held until the report is printed,
 * grew with every version. The command that prints it iterates it; `toJSON` makes the whole
 * array, for `JSON.stringify` of small reports.
 */
export class StepItems implements Iterable<StepItem> {
  private readonly parts: readonly ItemSource[];

  constructor(...parts: ItemSource[]) {
    this.parts = parts;
  }

  get length(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }

  *[Symbol.iterator](): Iterator<StepItem> {
    for (const p of this.parts) for (let i = 0; i < p.length; i++) yield p.at(i)!;
  }

  toArray(): StepItem[] {
    return [...this];
  }

  toJSON(): StepItem[] {
    return this.toArray();
  }
}
