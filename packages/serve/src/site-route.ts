/**
 * `GET /…`: the static site of `pond site build` (packages/present), served from a
 * folder the server owns. It is rebuilt lazily: a request that finds the pond's newest
 * transaction differs from the one the site was built at rebuilds it first (one build at a
 * time; requests meanwhile wait for the same build), so a pond nobody looks at costs
 * nothing. Paths are decoded once and must stay inside the folder: `..`, NUL, backslashes
 * and hidden names are 404, as is anything missing.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { PondError } from "@pond/diagnostics";
import { buildSite } from "@pond/present";
import type { PondNow } from "./pond-state.ts";
import { RouteNotFoundError, SiteBuildFailedError } from "./errors.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

export interface SiteStatus {
  /** The transaction the site was last built at (undefined before the first request for it). */
  builtAtSeq: number | undefined;
  builds: number;
  lastBuildMs: number | undefined;
}

export class SiteRoute {
  private readonly root = mkdtempSync(join(tmpdir(), "pond-serve-site-"));
  private readonly dest = join(this.root, "site");
  private builtAt: number | undefined;
  private building: Promise<void> | undefined;
  private buildingSeq: number | undefined;
  private builds = 0;
  private lastBuildMs: number | undefined;

  /** Answers a GET under `/` for the site as of `now` (rebuilding first when the pond moved). */
  async handle(pathname: string, now: PondNow): Promise<Response> {
    const file = this.fileFor(pathname);
    await this.ensureBuilt(now);
    let path = file;
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "index.html");
    if (!existsSync(path) || !statSync(path).isFile()) throw new RouteNotFoundError(pathname);
    return new Response(Bun.file(path), { headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-cache" } });
  }

  status(): SiteStatus {
    return { builtAtSeq: this.builtAt, builds: this.builds, lastBuildMs: this.lastBuildMs };
  }

  /** Removes the server's copy of the site. */
  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The host file for a URL path; 404 for any path that could leave the site's folder. */
  private fileFor(pathname: string): string {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch (e) {
      if (!(e instanceof URIError)) throw e;
      throw new RouteNotFoundError(pathname);
    }
    const parts = rel.split("/").filter((p) => p !== "");
    if (parts.some((p) => p === ".." || p.startsWith(".") || p.includes("\\") || p.includes("\0"))) throw new RouteNotFoundError(pathname);
    const file = resolve(this.dest, ...parts);
    if (file !== this.dest && !file.startsWith(this.dest + sep)) throw new RouteNotFoundError(pathname);
    return file;
  }

  private async ensureBuilt(now: PondNow): Promise<void> {
    while (this.builtAt !== now.seq) {
      if (this.building) {
        const seq = this.buildingSeq;
        await this.building;
        if (seq === now.seq) break;
        continue;
      }
      this.buildingSeq = now.seq;
      this.building = this.build(now).finally(() => {
        this.building = undefined;
        this.buildingSeq = undefined;
      });
      await this.building;
    }
  }

  private async build(now: PondNow): Promise<void> {
    const t0 = performance.now();
    try {
      await buildSite(now.pond, this.dest, { asOf: { seq: now.seq } });
    } catch (e) {
      if (e instanceof PondError && e.kind !== "bug") throw new SiteBuildFailedError(now.seq, e.message, e.hint);
      throw e;
    }
    this.builtAt = now.seq;
    this.builds++;
    this.lastBuildMs = performance.now() - t0;
  }
}
