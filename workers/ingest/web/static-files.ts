/**
 * The trader's web page: index.html, app.js and style.css from this directory, read once at
 * start-up and served from memory by the ingest worker's uWebSockets.js app (no disk read per
 * request, no build step). The page is plain JavaScript over the public WebSocket and REST API
 * (docs/API.md); it has no more rights than the API key typed into it.
 */
import { readFileSync } from 'node:fs';

export interface StaticFile {
  /** URL path served. */
  path: string;
  contentType: string;
  body: Buffer;
}

const FILES: [path: string, file: string, contentType: string][] = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/style.css', 'style.css', 'text/css; charset=utf-8'],
];

/**
 * Headers on every page response. The CSP allows only this origin's scripts, styles and
 * connections (ws/wss to the same host), so injected markup could not load or send anything.
 */
export const PAGE_HEADERS: [string, string][] = [
  ['Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-cache'],
];

/** Reads the page's files (at start-up only). */
export function loadStaticFiles(dir: URL = new URL('./', import.meta.url)): StaticFile[] {
  return FILES.map(([path, file, contentType]) => ({ path, contentType, body: readFileSync(new URL(file, dir)) }));
}
