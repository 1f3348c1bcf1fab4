/**
 * A fake of HydroVu's public API (see packages/collect/src/hydrovu-api.ts for the API as
 * documented), served by Bun.serve on 127.0.0.1 inside the test process, from generated
 * data with the quirks the real service shows: pages of a configurable size whose
 * cursors are opaque, readings repeated at the start of the next page, a reading moved
 * into the previous page (out of order across pages), a parameter that appears
 * mid-history, a dormant logger, expiring tokens, and failures injected on demand:
 * 429 with Retry-After, 500, dropped connections, hangs, bad JSON, non-numeric values,
 * and an error answer that echoes the credentials it was sent.
 */

export interface FakeParameter {
  parameterId: string;
  unitId: string;
  /** Readings as [unix s, value], in time order. */
  readings: [number, number][];
}

export interface FakeLocation {
  id: number;
  name: string;
  parameters: FakeParameter[];
}

export type Failure =
  | { kind: "429"; retryAfter?: string }
  | { kind: "500" }
  | { kind: "drop" }
  | { kind: "hang"; ms: number }
  | { kind: "badjson" }
  | { kind: "badvalue" }
  | { kind: "401" }
  | { kind: "status"; status: number }
  /** A 400 whose body quotes the request's form, as some OAuth servers answer a bad grant. */
  | { kind: "echo" };

interface Injected {
  path: RegExp;
  failure: Failure;
  /** How many matching requests still fail. */
  remaining: number;
  /** Only requests for this page number (1-based) of a data listing. */
  page?: number;
}

export interface FakeOptions {
  clientId?: string;
  clientSecret?: string;
  /** Distinct timestamps per data page (default 100). */
  pageSize?: number;
  /** Timestamps of page N repeated at the start of page N+1 (default 3). */
  overlap?: number;
  /** Move the first timestamp of each next page into this one (default true). */
  outOfOrder?: boolean;
  /** A token stops working after this many uses (default: never). */
  tokenUses?: number;
  /** Milliseconds before each answer, as a network between client and server adds (default 0). */
  latencyMs?: number;
}

export const PARAMETER_NAMES: Record<string, string> = { "1": "Temperature", "2": "Specific Conductance", "3": "pH" };
export const UNIT_NAMES: Record<string, string> = { "10": "C", "20": "uS/cm", "30": "pH" };

/**
 * Generated readings for one location: `count` timestamps every `step` s from `start`;
 * parameters 1 and 2 throughout, parameter 3 ("pH") only from the middle on. Values are
 * a deterministic function of (location, parameter, time) so a test can recompute them.
 */
export function generateLocation(id: number, name: string, opts: { start: number; count: number; step?: number; withPh?: boolean }): FakeLocation {
  const step = opts.step ?? 900;
  const times = Array.from({ length: opts.count }, (_, i) => opts.start + i * step);
  const params: FakeParameter[] = [
    { parameterId: "1", unitId: "10", readings: times.map((t) => [t, value(id, 1, t)]) },
    { parameterId: "2", unitId: "20", readings: times.map((t) => [t, value(id, 2, t)]) },
  ];
  if (opts.withPh ?? true)
    params.push({ parameterId: "3", unitId: "30", readings: times.slice(Math.floor(times.length / 2)).map((t) => [t, value(id, 3, t)]) });
  return { id, name, parameters: params };
}

export function value(loc: number, param: number, t: number): number {
  return Math.round((Math.sin(t / 7919 + loc) * 10 + param * 3 + (t % 97) / 10) * 1000) / 1000;
}

/** Appends `count` more readings to a location, as a logger reporting later would. */
export function extendLocation(loc: FakeLocation, count: number, step = 900): void {
  const last = Math.max(...loc.parameters.flatMap((p) => p.readings.map((r) => r[0])));
  for (let i = 1; i <= count; i++) {
    const t = last + i * step;
    for (const p of loc.parameters) p.readings.push([t, value(loc.id, Number(p.parameterId), t)]);
  }
}

export class FakeHydroVu {
  readonly server: ReturnType<typeof Bun.serve>;
  readonly locations = new Map<number, FakeLocation>();
  /** Every request, as "METHOD /path?query page-cursor". */
  readonly log: string[] = [];
  private readonly tokens = new Map<string, number>();
  private injected: Injected[] = [];
  private tokenSeq = 0;
  readonly o: Required<FakeOptions>;

  constructor(locations: FakeLocation[], opts: FakeOptions = {}) {
    this.o = { clientId: "fake-id", clientSecret: "fake-secret", pageSize: 100, overlap: 3, outOfOrder: true, tokenUses: Infinity, latencyMs: 0, ...opts };
    for (const l of locations) this.locations.set(l.id, l);
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => this.handle(req), error: () => new Response("fake error", { status: 500 }) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/public-api/`;
  }

  /** The next `times` requests whose path matches fail this way. */
  inject(path: RegExp, failure: Failure, times = 1, page?: number): void {
    this.injected.push({ path, failure, remaining: times, page });
  }

  clearFailures(): void {
    this.injected = [];
  }

  /** Every token issued so far stops working (the next use gets a 401). */
  expireTokens(): void {
    this.tokens.clear();
  }

  stop(): void {
    this.server.stop(true);
  }

  /** Distinct timestamps and their rows as the fake holds them: what a series must equal. */
  expectedRows(id: number): Map<number, Record<string, number>> {
    const rows = new Map<number, Record<string, number>>();
    for (const p of this.locations.get(id)!.parameters) {
      const col = `${PARAMETER_NAMES[p.parameterId] ?? p.parameterId}.${UNIT_NAMES[p.unitId] ?? p.unitId}`;
      for (const [t, v] of p.readings) {
        if (!rows.has(t)) rows.set(t, {});
        rows.get(t)![col] = v;
      }
    }
    return rows;
  }

  /** A location's distinct times in order, cached until its readings change (extendLocation). */
  private readonly times = new Map<number, { count: number; times: number[] }>();
  private timesOf(loc: FakeLocation): number[] {
    const count = loc.parameters.reduce((a, p) => a + p.readings.length, 0);
    const hit = this.times.get(loc.id);
    if (hit?.count === count) return hit.times;
    const times = [...new Set(loc.parameters.flatMap((p) => p.readings.map((r) => r[0])))].sort((a, b) => a - b);
    this.times.set(loc.id, { count, times });
    return times;
  }

  private async handle(req: Request): Promise<Response> {
    const u = new URL(req.url);
    const path = u.pathname.replace(/^\/public-api/, "");
    const cursor = req.headers.get("x-isi-start-page") ?? "";
    this.log.push(`${req.method} ${path}${u.search} ${cursor}`);
    if (this.o.latencyMs > 0) await Bun.sleep(this.o.latencyMs);
    const page = cursor ? (JSON.parse(atob(cursor)) as { page: number }).page : 1;
    const hit = this.injected.find((f) => f.remaining > 0 && f.path.test(path) && (f.page === undefined || f.page === page));
    if (hit) {
      hit.remaining--;
      const r = await this.fail(hit.failure, path, req);
      if (r) return r;
    }
    if (req.method === "POST" && path === "/oauth/token") return this.token(await req.text());
    const auth = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "");
    const uses = auth ? this.tokens.get(auth[1]!) : undefined;
    if (uses === undefined || uses >= this.o.tokenUses) return new Response(JSON.stringify({ error: "invalid_token" }), { status: 401 });
    this.tokens.set(auth![1]!, uses + 1);
    if (path === "/v1/sispec/friendlynames") return Response.json({ parameters: PARAMETER_NAMES, units: UNIT_NAMES });
    if (path === "/v1/locations/list") return this.locationList(page);
    const m = /^\/v1\/locations\/(\d+)\/data$/.exec(path);
    if (m) return this.data(Number(m[1]), Number(u.searchParams.get("startTime") ?? 0), u.searchParams.get("endTime"), page, hit?.failure.kind === "badvalue");
    return new Response("not found", { status: 404 });
  }

  private async fail(f: Failure, path: string, req: Request): Promise<Response | null> {
    switch (f.kind) {
      case "429":
        return new Response("slow down", { status: 429, headers: f.retryAfter === undefined ? {} : { "retry-after": f.retryAfter } });
      case "500":
        return new Response("internal error", { status: 500 });
      case "401":
        return new Response("expired", { status: 401 });
      case "status":
        return new Response(`refused with ${f.status}`, { status: f.status });
      case "badjson":
        return new Response('{"locationId": 1, "parameters": [', { status: 200, headers: { "content-type": "application/json" } });
      case "hang":
        await Bun.sleep(f.ms);
        return new Response("too late", { status: 500 });
      case "drop": {
        // Half a body, then the stream errors: the client sees the connection reset.
        const stream = new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode(`{"path": "${path}", "parameters": [`));
            await Bun.sleep(5);
            c.error(new Error("dropped by the fake"));
          },
        });
        return new Response(stream, { headers: { "content-type": "application/json" } });
      }
      case "echo":
        return new Response(`invalid_grant for request body ${await req.clone().text()}`, { status: 400 });
      case "badvalue":
        return null; // served normally, with one value spoiled
    }
  }

  private token(body: string): Response {
    const f = new URLSearchParams(body);
    if (f.get("grant_type") !== "client_credentials" || f.get("client_id") !== this.o.clientId || f.get("client_secret") !== this.o.clientSecret) {
      return new Response(JSON.stringify({ error: "invalid_client" }), { status: 401 });
    }
    const t = `tok-${++this.tokenSeq}`;
    this.tokens.set(t, 0);
    return Response.json({ access_token: t, token_type: "bearer", expires_in: 3600, scope: "read:locations read:data" });
  }

  private locationList(page: number): Response {
    const all = [...this.locations.values()].map((l) => ({
      id: l.id,
      name: l.name,
      description: `fake ${l.name}`,
      gps: { latitude: 40 + l.id / 1000, longitude: -105 },
    }));
    const per = 2;
    const slice = all.slice((page - 1) * per, page * per);
    const headers: Record<string, string> = {};
    if (page * per < all.length) headers["x-isi-next-page"] = btoa(JSON.stringify({ page: page + 1 }));
    return Response.json(slice, { headers });
  }

  private data(id: number, startTime: number, endTime: string | null, page: number, spoil: boolean): Response {
    const loc = this.locations.get(id);
    if (!loc) return new Response("no such location", { status: 404 });
    const end = endTime === null ? Infinity : Number(endTime);
    // The times at or after startTime (and up to endTime) are all[from, to): indexed, not copied.
    const all = this.timesOf(loc);
    const from = firstAtOrAfter(all, startTime);
    const count = firstAtOrAfter(all, end + 1) - from;
    const at = (i: number) => all[from + i]!;
    if (count <= 0) return new Response(JSON.stringify({ message: "no data" }), { status: 404 });
    const n = this.o.pageSize;
    const pages = Math.ceil(count / n);
    if (page > pages) return new Response("bad cursor", { status: 400 });
    const own = new Set<number>();
    for (let i = (page - 1) * n; i < Math.min(count, page * n); i++) own.add(at(i));
    if (page > 1) for (let i = Math.max(0, (page - 1) * n - this.o.overlap); i < (page - 1) * n; i++) own.add(at(i)); // repeated
    if (this.o.outOfOrder) {
      if (page < pages) own.add(at(page * n)); // the next page's first reading, early
      if (page > 1) own.delete(at((page - 1) * n)); // …so this page lacks it
    }
    const parameters = loc.parameters
      .map((p) => ({
        parameterId: p.parameterId,
        unitId: p.unitId,
        customParameter: false,
        // Readings are in time order: only the slice between the page's first and last time can be on it.
        readings: p.readings
          .slice(lowerBound(p.readings, Math.min(...own)), lowerBound(p.readings, Math.max(...own) + 1))
          .filter((r) => own.has(r[0]))
          .reverse()
          .map(([timestamp, value]) => ({ timestamp, value }) as { timestamp: number; value: unknown }),
      }))
      .filter((p) => p.readings.length > 0);
    if (spoil && parameters[0]?.readings[0]) parameters[0].readings[0].value = "n/a";
    const headers: Record<string, string> = {};
    if (page < pages) headers["x-isi-next-page"] = btoa(JSON.stringify({ page: page + 1, startTime }));
    return Response.json({ locationId: id, parameters }, { headers });
  }
}

/** The first index whose value is ≥ t, in sorted numbers. */
function firstAtOrAfter(sorted: number[], t: number): number {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose time is ≥ t, in readings sorted by time. */
function lowerBound(readings: [number, number][], t: number): number {
  let lo = 0,
    hi = readings.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (readings[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
