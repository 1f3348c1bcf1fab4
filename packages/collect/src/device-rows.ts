/**
 * A device's readings as they arrive, page by page, turned into rows: one row per
 * distinct timestamp, one column per parameter, the first value seen for a (time,
 * parameter) kept (a later page may repeat it), sorted by time.
 *
 * Readings of one parameter arrive almost in order: pages advance in time, a page holds
 * its readings newest first, and consecutive pages overlap by a few readings or hold one
 * that belongs to the next. So each parameter keeps an ascending run in typed arrays
 * (a reading later than the last one is appended: one comparison) and a small list of
 * readings that came late; a repeat is found by a binary search. Rows are then a merge
 * of the parameters' sorted runs, without a per-reading Map (measured: the Map lookup
 * per reading was ~30 ms a device of 100,000 readings).
 */
import type { HydroVuReading } from "./hydrovu-api.ts";

/**
 * Float64Arrays handed from one device to the next in a run. Fresh memory costs a page
 * fault every 4 KiB (measured: a 10-device run touched ~70 MB of new memory, ~17,000
 * faults, most of them these arrays), so a device's arrays are given back once its file
 * is written and a later device takes them. An array taken may be longer than asked.
 */
export class ArrayPool {
  private readonly free: Float64Array[] = [];

  /** An array of at least `length` (the shortest free one, or a new one), recorded in `owner`. */
  take(length: number, owner: Float64Array[]): Float64Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const a = this.free[i]!;
      if (a.length >= length && (best < 0 || a.length < this.free[best]!.length)) best = i;
    }
    const a = best >= 0 ? this.free.splice(best, 1)[0]! : new Float64Array(length);
    owner.push(a);
    return a;
  }

  /** Takes back `owner`'s arrays: whatever was built from them must no longer be used. */
  giveBack(owner: Float64Array[]): void {
    this.free.push(...owner);
    owner.length = 0;
  }
}

/** One parameter's readings: distinct times ascending with their first values, and those that came late. */
class ParameterReadings {
  // Room for a few pages at first, then four times as much: a device of 40,000 times grows once.
  times: Float64Array;
  values: Float64Array;
  n = 0;
  /** Readings older than the run's last when they came and not in it; in order of arrival. */
  readonly lateTimes: number[] = [];
  readonly lateValues: number[] = [];

  constructor(
    private readonly pool: ArrayPool,
    private readonly owner: Float64Array[],
  ) {
    this.times = pool.take(16_384, owner);
    this.values = pool.take(16_384, owner);
  }

  add(t: number, v: number): void {
    const n = this.n;
    if (n === 0 || t > this.times[n - 1]!) {
      if (n === this.times.length) this.grow();
      this.times[n] = t;
      this.values[n] = v;
      this.n = n + 1;
    } else this.addOlder(t, v);
  }

  /** A reading not later than the run's last: kept as late unless its time is in the run. */
  addOlder(t: number, v: number): void {
    if (t !== this.times[this.n - 1]! && !this.has(t)) {
      this.lateTimes.push(t);
      this.lateValues.push(v);
    }
  }

  private has(t: number): boolean {
    let lo = 0,
      hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.n && this.times[lo] === t;
  }

  grow(): void {
    const times = this.pool.take(this.times.length * 4, this.owner);
    times.set(this.times.subarray(0, this.n));
    const values = this.pool.take(this.values.length * 4, this.owner);
    values.set(this.values.subarray(0, this.n));
    this.times = times;
    this.values = values;
  }

  /** Distinct times ascending and each one's first value: the run with the late readings merged in. */
  sorted(): { times: Float64Array; values: Float64Array } {
    const late = this.lateTimes.length;
    if (late === 0) return { times: this.times.subarray(0, this.n), values: this.values.subarray(0, this.n) };
    // Late readings by time, the first to arrive first among equal times (a stable sort).
    const order = Array.from({ length: late }, (_, i) => i).sort((a, b) => this.lateTimes[a]! - this.lateTimes[b]! || a - b);
    const times = this.pool.take(this.n + late, this.owner);
    const values = this.pool.take(this.n + late, this.owner);
    let i = 0,
      j = 0,
      k = 0;
    while (i < this.n || j < late) {
      if (j < late && k > 0 && this.lateTimes[order[j]!] === times[k - 1]) {
        j++; // a repeat of a late reading: the first one stays (none is in the run)
        continue;
      }
      if (j >= late || (i < this.n && this.times[i]! < this.lateTimes[order[j]!]!)) {
        times[k] = this.times[i]!;
        values[k++] = this.values[i++]!;
      } else {
        times[k] = this.lateTimes[order[j]!]!;
        values[k++] = this.lateValues[order[j++]!]!;
      }
    }
    return { times: times.subarray(0, k), values: values.subarray(0, k) };
  }
}

/** Rows fetched for one device, kept by parameter until `deviceTable` merges them. */
export interface DeviceRows {
  /** Column names in order of first appearance; `params[i]` holds column i's readings. */
  columns: string[];
  params: ParameterReadings[];
  /** Column index by name. */
  index: Map<string, number>;
  /** Rows at or after this time are left for the next run (max_points_per_run). */
  cutoff: number;
  /** Where the readings' arrays (and deviceTable's) come from. */
  pool: ArrayPool;
  /** The arrays this device took from the pool, given back by `releaseDeviceRows`. */
  arrays: Float64Array[];
}

/** Rows for one device; `pool` is shared with other devices of the run. */
export function newDeviceRows(pool = new ArrayPool()): DeviceRows {
  return { columns: [], params: [], index: new Map(), cutoff: Infinity, pool, arrays: [] };
}

/** Gives the device's arrays back to its pool, once nothing built from them (its table) is used any more. */
export function releaseDeviceRows(d: DeviceRows): void {
  d.pool.giveBack(d.arrays);
}

/** The column index of `name`, added when new. */
export function columnOf(d: DeviceRows, name: string): number {
  let col = d.index.get(name);
  if (col === undefined) {
    col = d.columns.push(name) - 1;
    d.params.push(new ParameterReadings(d.pool, d.arrays));
    d.index.set(name, col);
  }
  return col;
}

/** Records one reading; the first value seen for a (time, column) is kept. */
export function addReading(d: DeviceRows, col: number, timestamp: number, value: number): void {
  d.params[col]!.add(timestamp, value);
}

/**
 * Records one page's readings of a parameter, leaving out those before `startTime` (the
 * API repeats readings before it). A page newest first is read backwards, so its readings
 * extend the ascending run; that is only done when its times strictly decrease, so no
 * two readings of the page share a time and which of them came first does not matter.
 * Returns the page's earliest time (of every reading, also those left out).
 */
export function addPageReadings(d: DeviceRows, col: number, readings: readonly HydroVuReading[], startTime: number): number {
  const p = d.params[col]!;
  const n = readings.length;
  if (strictlyDescending(readings)) {
    appendDescending(p, readings, startTime);
    return n > 0 ? readings[n - 1]!.timestamp : Infinity;
  }
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    const t = r.timestamp;
    if (t < min) min = t;
    if (t >= startTime) p.add(t, r.value);
  }
  return min;
}

/**
 * A page newest first, read backwards: each reading later than the run's last is
 * appended, the others go through `addOlder`. `p.add` written out: a call a reading costs
 * most while the code is still interpreted (a run's first pages), and the appended case
 * needs only the run's last time. A leaf function, so the JIT compiles just this loop.
 */
function appendDescending(p: ParameterReadings, readings: readonly HydroVuReading[], startTime: number): void {
  let times = p.times,
    values = p.values,
    k = p.n,
    last = k === 0 ? -Infinity : times[k - 1]!;
  for (let i = readings.length - 1; i >= 0; i--) {
    const r = readings[i]!;
    const t = r.timestamp;
    if (t < startTime) continue;
    if (t > last) {
      if (k === times.length) {
        p.n = k;
        p.grow();
        times = p.times;
        values = p.values;
      }
      times[k] = t;
      values[k++] = r.value;
      last = t;
    } else {
      p.n = k;
      p.addOlder(t, r.value);
    }
  }
  p.n = k;
}

/** True when the readings' times strictly decrease (a leaf function: small for the JIT to compile). */
function strictlyDescending(readings: readonly HydroVuReading[]): boolean {
  for (let i = 1; i < readings.length; i++) if (readings[i]!.timestamp >= readings[i - 1]!.timestamp) return false;
  return true;
}

/** A device's rows sorted by time: `values[c][i]` is column c's value at `times[i]`, NaN for none. */
export interface DeviceTable {
  times: Float64Array;
  columns: { name: string; values: Float64Array }[];
}

/**
 * The rows before the cutoff, one per distinct time, sorted; only the columns that have a
 * value in them, by name. Usually every parameter's times are one stretch of the longest
 * parameter's (a parameter that starts later, or stops earlier): then the rows are that
 * parameter's times and the others' values are copied into place. Otherwise a merge of
 * the parameters' sorted runs.
 */
export function deviceTable(d: DeviceRows): DeviceTable {
  const runs = d.params.map((p) => p.sorted());
  const take = (n: number) => d.pool.take(n, d.arrays);
  const table = stretchTable(runs, take) ?? mergeTable(runs, take);
  let rows = table.times.length;
  if (d.cutoff !== Infinity) {
    let lo = 0;
    while (lo < rows) {
      const mid = (lo + rows) >> 1;
      if (table.times[mid]! < d.cutoff) lo = mid + 1;
      else rows = mid;
    }
  }
  const columns: DeviceTable["columns"] = [];
  d.columns.forEach((name, c) => {
    const values = table.values[c]!.subarray(0, rows);
    for (let i = 0; i < rows; i++) {
      if (!Number.isNaN(values[i]!)) {
        columns.push({ name, values });
        break;
      }
    }
  });
  columns.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { times: table.times.subarray(0, rows), columns };
}

type Run = { times: Float64Array; values: Float64Array };

/** Rows when every run is one stretch of the longest run's times, else undefined. */
function stretchTable(runs: Run[], take: (n: number) => Float64Array): { times: Float64Array; values: Float64Array[] } | undefined {
  let longest = 0;
  for (let c = 1; c < runs.length; c++) if (runs[c]!.times.length > runs[longest]!.times.length) longest = c;
  const times = runs[longest]?.times ?? new Float64Array(0);
  const n = times.length;
  const values: Float64Array[] = [];
  for (let c = 0; c < runs.length; c++) {
    const r = runs[c]!;
    if (c === longest) {
      values.push(r.values);
      continue;
    }
    const m = r.times.length;
    const at = m === 0 ? 0 : firstAtOrAfter(times, r.times[0]!);
    if (at + m > n || !sameTimes(r.times, times, at)) return undefined;
    const v = take(n).subarray(0, n);
    v.fill(Number.NaN, 0, at);
    v.set(r.values, at);
    v.fill(Number.NaN, at + m);
    values.push(v);
  }
  return { times, values };
}

/** True when `part` equals `times` from `at` on (a leaf function: small for the JIT to compile). */
function sameTimes(part: Float64Array, times: Float64Array, at: number): boolean {
  for (let i = 0; i < part.length; i++) if (part[i] !== times[at + i]) return false;
  return true;
}

/** Rows by a merge of the runs: one per distinct time, NaN where a run has none. */
function mergeTable(runs: Run[], take: (n: number) => Float64Array): { times: Float64Array; values: Float64Array[] } {
  const k = runs.length;
  let most = 0;
  for (const r of runs) most += r.times.length;
  const times = take(most);
  const values = runs.map(() => take(most));
  const at = new Int32Array(k);
  let rows = 0;
  for (;;) {
    let t = Infinity;
    for (let c = 0; c < k; c++) {
      const r = runs[c]!;
      if (at[c]! < r.times.length && r.times[at[c]!]! < t) t = r.times[at[c]!]!;
    }
    if (t === Infinity) break; // every run used up
    times[rows] = t;
    for (let c = 0; c < k; c++) {
      const r = runs[c]!;
      if (at[c]! < r.times.length && r.times[at[c]!] === t) {
        values[c]![rows] = r.values[at[c]!]!;
        at[c] = at[c]! + 1;
      } else values[c]![rows] = Number.NaN;
    }
    rows++;
  }
  return { times: times.subarray(0, rows), values: values.map((v) => v.subarray(0, rows)) };
}

/** The first index whose time is ≥ t, in sorted times. */
function firstAtOrAfter(times: Float64Array, t: number): number {
  let lo = 0,
    hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
