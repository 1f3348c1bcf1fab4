/**
 * Metrics in the Prometheus text exposition format (version 0.0.4), written by us:
 * counters, gauges and histograms with labels, rendered on demand by `GET /metrics`.
 * Every part of the server (SQL, ingest) registers its series here; one registry a
 * server.
 */

type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return "";
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",");
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

function braces(key: string, extra?: string): string {
  const all = [key, extra].filter((s) => s).join(",");
  return all ? `{${all}}` : "";
}

interface Metric {
  readonly name: string;
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`counter ${this.name} can only go up (by ${by})`);
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) out.push(`${this.name}${braces(k)} ${formatValue(v)}`);
    return out;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [k, v] of this.values) out.push(`${this.name}${braces(k)} ${formatValue(v)}`);
    return out;
  }
}

/** Seconds: 1 ms to 60 s, the range of a request or a query. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {}
  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  count(labels?: Labels): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      for (let i = 0; i < this.buckets.length; i++) out.push(`${this.name}_bucket${braces(k, `le="${formatValue(this.buckets[i]!)}"`)} ${s.counts[i]}`);
      out.push(`${this.name}_bucket${braces(k, 'le="+Inf"')} ${s.count}`);
      out.push(`${this.name}_sum${braces(k)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${braces(k)} ${s.count}`);
    }
    return out;
  }
}

/** One server's metrics. Registering a name twice returns the first (parts may share a series). */
export class Registry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help), Counter);
  }
  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help), Gauge);
  }
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, buckets), Histogram);
  }

  /** The text format, `Content-Type: text/plain; version=0.0.4`. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics.values()) lines.push(...m.render());
    return `${lines.join("\n")}\n`;
  }

  private register<M extends Metric>(name: string, make: () => M, kind: abstract new (...a: never[]) => M): M {
    if (!NAME.test(name)) throw new RangeError(`metric name ${JSON.stringify(name)} is not a Prometheus name`);
    const old = this.metrics.get(name);
    if (old) {
      if (!(old instanceof kind)) throw new RangeError(`metric ${name} is already registered as another kind`);
      return old;
    }
    const m = make();
    this.metrics.set(name, m);
    return m;
  }
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
