// The browser the site's tests and benchmark drive: Debian's chromium-headless-shell (or
// chromium), installed by .ci/run; $POND_CHROMIUM names another binary. Driven with
// puppeteer-core, which downloads no browser of its own.
import { existsSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The browser binary, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const env = process.env.POND_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

/** A plain static file server for `root` on 127.0.0.1 (a random port). */
export function serveFolder(root: string): { url: string; stop(): void } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = normalize(decodeURIComponent(new URL(req.url).pathname));
      if (path.includes("..")) return new Response("bad path", { status: 400 });
      const file = join(root, path.endsWith("/") ? path + "index.html" : path);
      if (!existsSync(file)) return new Response("not found", { status: 404 });
      return new Response(Bun.file(file), { headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
