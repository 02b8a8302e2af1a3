// Serves the web build (web-build/, made by build.mjs) on a loopback port,
// with config.js pointing the app at a Hearth server: for trying the app in
// a browser against `make run`, and for the browser tests. Every answer
// carries ISOLATION_HEADERS (web/headers.mjs): the SQLite store needs a
// cross-origin isolated page.
//
//   node web/serve.mjs                      # http://127.0.0.1:8081 -> http://127.0.0.1:8090
//   PORT=3000 HEARTH_URL=http://127.0.0.1:8091 node web/serve.mjs
//
//   import { serveWeb } from '.../web/serve.mjs';
//   const web = await serveWeb({ hearthUrl: hearth.url });   // a free port
//   ... web.url ...; await web.close();
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configScript } from './config.mjs';
import { ISOLATION_HEADERS } from './headers.mjs';

export const WEB_BUILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'web-build');

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.ico': 'image/x-icon' };

/** serveWeb serves dir on 127.0.0.1:port (0: a free one) and resolves to { url, close }. */
export function serveWeb({ hearthUrl, dir = WEB_BUILD, port = 0 }) {
  const server = createServer(async (req, res) => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) {
      res.setHeader(name, value);
    }
    // normalize keeps an absolute path under /, so the file stays under dir.
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path === '/config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' });
      return res.end(configScript(hearthUrl));
    }
    // A single-page app: any path without a file is the app.
    const file = join(dir, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end(await readFile(join(dir, 'index.html')));
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      ok({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const hearthUrl = process.env.HEARTH_URL || 'http://127.0.0.1:8090';
  const web = await serveWeb({ hearthUrl, port: Number(process.env.PORT || 8081) });
  console.log(`Crews web app on ${web.url}, talking to ${hearthUrl}`);
}
