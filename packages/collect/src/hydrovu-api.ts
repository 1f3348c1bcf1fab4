import { BadResponseError, HttpRequestError } from "./errors.ts";
import type { HttpClient } from "./http-client.ts";

/**
 * HydroVu's public API as its independent clients document it (the Swagger UI is not
 * reachable offline): OAuth2 client credentials, friendly names, paged locations, and
 * paged data per location where `X-ISI-Next-Page` is an opaque cursor sent back verbatim
 * in `X-ISI-Start-Page`. Timestamps are unix seconds.
 */
export interface HydroVuLocation {
  id: number;
  name: string;
  description?: string;
  gps?: { latitude?: number; longitude?: number };
}

export interface HydroVuReading {
  timestamp: number;
  value: number;
}

export interface HydroVuParameter {
  parameterId: string;
  unitId: string;
  customParameter?: boolean;
  readings: HydroVuReading[];
}

export interface FriendlyNames {
  parameters: Record<string, string>;
  units: Record<string, string>;
}

export class HydroVuApi {
  private token: string | undefined;
  private authenticating: Promise<string> | undefined;
  private readonly base: string;

  constructor(
    base: string,
    private readonly creds: { clientId: string; clientSecret: string },
    readonly http: HttpClient,
  ) {
    this.base = base.endsWith("/") ? base : base + "/";
  }

  /**
   * The token, asked for once however many requests need it at the same moment (the
   * devices' first pages go out together); a refused or expired one is asked for again.
   */
  private authenticate(): Promise<string> {
    this.authenticating ??= this.fetchToken().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: this.creds.clientId,
      client_secret: this.creds.clientSecret,
      scope: "read:locations read:data",
    });
    const what = "POST /oauth/token";
    const r = await this.http.request(what, this.base + "oauth/token", {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    if (r.status === 401 || r.status === 404)
      throw new HttpRequestError(
        what,
        r.status === 401 ? "HTTP 401: the client id or secret was refused" : "HTTP 404: no token endpoint (check base_url)",
        r.status,
      );
    const j = parseJson(r.text, what) as { access_token?: unknown };
    if (typeof j.access_token !== "string" || j.access_token === "") throw new BadResponseError(what, "the answer has no access_token");
    this.token = j.access_token;
    return j.access_token;
  }

  /** GET with the bearer token; a 401 re-authenticates once (tokens expire mid-run). 404 → null. */
  private async get(what: string, path: string, headers: Record<string, string> = {}): Promise<{ text: string; headers: Headers } | null> {
    for (let reauth = 0; ; reauth++) {
      const token = this.token ?? (await this.authenticate());
      const r = await this.http.request(what, this.base + path, { headers: { ...headers, authorization: `Bearer ${token}` } });
      if (r.status === 401) {
        this.token = undefined;
        if (reauth === 0) continue;
        throw new HttpRequestError(what, "HTTP 401 again after a fresh token: the account may lack read:data", 401);
      }
      if (r.status === 404) return null;
      return { text: r.text, headers: r.headers };
    }
  }

  async friendlyNames(): Promise<FriendlyNames> {
    const what = "GET /v1/sispec/friendlynames";
    const r = await this.get(what, "v1/sispec/friendlynames");
    if (!r) throw new HttpRequestError(what, "HTTP 404 (check base_url)", 404);
    const j = parseJson(r.text, what) as Partial<FriendlyNames>;
    return { parameters: j.parameters ?? {}, units: j.units ?? {} };
  }

  async locations(): Promise<HydroVuLocation[]> {
    const out: HydroVuLocation[] = [];
    for await (const page of this.pages("GET /v1/locations/list", "v1/locations/list")) {
      if (!Array.isArray(page.json)) throw new BadResponseError(`GET /v1/locations/list page ${page.n}`, "expected a list of locations");
      out.push(...(page.json as HydroVuLocation[]));
    }
    return out;
  }

  /**
   * The data of one location from `startTime` (unix s), page by page, each checked:
   * every reading has a whole-second timestamp and a finite number. Nothing is yielded
   * for a 404 (no data at or after startTime).
   */
  async *data(locationId: number, startTime: number): AsyncIterable<{ n: number; parameters: HydroVuParameter[]; bytes: number }> {
    const what = `GET /v1/locations/${locationId}/data?startTime=${startTime}`;
    for await (const page of this.pages(what, `v1/locations/${locationId}/data?startTime=${startTime}`)) {
      const where = `${what} page ${page.n}`;
      const params = (page.json as { parameters?: unknown }).parameters;
      if (!Array.isArray(params)) throw new BadResponseError(where, "the answer has no parameters list");
      for (const p of params as HydroVuParameter[]) {
        if (!p || (typeof p.parameterId !== "string" && typeof p.parameterId !== "number") || !Array.isArray(p.readings))
          throw new BadResponseError(where, "a parameter lacks parameterId or readings");
        checkReadings(where, p);
      }
      yield { n: page.n, parameters: params as HydroVuParameter[], bytes: page.bytes };
    }
  }

  /**
   * The pages of a listing, in order. The next page is asked for as soon as a page's
   * headers name it, before the page is parsed and used, so the server prepares one page
   * while the caller works on the previous (one request in flight, never more). A caller
   * that stops early leaves that one request unused; its failure is then ignored.
   */
  private async *pages(what: string, path: string): AsyncIterable<{ n: number; json: unknown; bytes: number }> {
    let cursor = "";
    let pending = this.get(what, path, { "X-ISI-Start-Page": cursor });
    for (let n = 1; ; n++) {
      const r = await pending;
      if (!r) return;
      const next = r.headers.get("x-isi-next-page");
      if (next && next === cursor) throw new BadResponseError(`${what} page ${n}`, "the next-page cursor did not move (the server would loop)");
      if (next) {
        pending = this.get(what, path, { "X-ISI-Start-Page": next });
        pending.catch(() => {}); // awaited on the next turn, unless the caller stops first
      }
      yield { n, json: parseJson(r.text, `${what} page ${n}`), bytes: r.text.length };
      if (!next) return;
      cursor = next;
    }
  }
}

/**
 * Every reading of a parameter has a whole-second timestamp and a finite number. A leaf
 * function of its own: the loop runs for every reading, and the JIT then compiles this
 * small function instead of the async generator around it (~20 ms of JIT time a run).
 */
function checkReadings(where: string, p: HydroVuParameter): void {
  const readings = p.readings;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i];
    if (!r || typeof r.timestamp !== "number" || !Number.isInteger(r.timestamp))
      throw new BadResponseError(where, `parameter ${p.parameterId}: a reading's timestamp ${JSON.stringify(r?.timestamp)} is not whole unix seconds`);
    if (typeof r.value !== "number" || !Number.isFinite(r.value))
      throw new BadResponseError(where, `parameter ${p.parameterId} at ${r.timestamp}: the value ${JSON.stringify(r.value)} is not a number`);
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadResponseError(where, `the answer is not valid JSON (${text.length} bytes, starting ${JSON.stringify(text.slice(0, 40))})`);
  }
}
