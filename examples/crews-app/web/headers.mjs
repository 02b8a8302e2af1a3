// What the server of the web build must send with every file: the web
// build keeps its store in SQLite through expo-sqlite, whose web worker
// needs SharedArrayBuffer, which browsers give only to a cross-origin
// isolated page (https://developer.mozilla.org/docs/Web/API/Window/crossOriginIsolated).
// web/serve.mjs sends them; build.mjs writes them into web-build/_headers
// for static hosts that read that file (Netlify, Cloudflare Pages).

/** ISOLATION_HEADERS make the page cross-origin isolated. */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** SQLITE_WORKER is expo-sqlite's web worker in web-build/, served from the site's root. */
export const SQLITE_WORKER = 'sqlite-worker.js';

/** headersFile returns web-build/_headers: ISOLATION_HEADERS on every path. */
export function headersFile() {
  return `/*\n${Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}\n`).join('')}`;
}
