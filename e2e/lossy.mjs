// An HTTP proxy in front of a server that can lose the answer of a
// request after the server applied it: the phone's request reached the
// server, the network dropped before the response came back. It can also
// stand for a failing server in front of some writes (a load balancer
// answering 503), and it counts the writes that pass.
//
//   const proxy = await lossy(hearth.url);
//   proxy.loseAnswerOf(3);          // the third write: applied, answer lost
//   proxy.failWrites('/api/collections/messages/', 503); // answered 503, not forwarded
//   proxy.writes;                   // [{ method, path }] of every write
//   await proxy.close();
import { createServer } from 'node:http';
import { freePort } from './harness.mjs';

const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** lossy listens on a free loopback port and forwards to target. */
export async function lossy(target) {
  const port = await freePort();
  const writes = [];
  const lose = new Set();
  const failing = [];
  const sockets = new Set();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const isWrite = WRITES.has(req.method) && req.url.startsWith('/api/collections/');
    if (isWrite) writes.push({ method: req.method, path: req.url });
    const fail = isWrite && failing.find((f) => req.url.startsWith(f.prefix));
    if (fail) {
      // PocketBase's error shape, so that the client reads the message.
      const body = { status: fail.status, message: `The proxy answers ${fail.status} for ${fail.prefix}.`, data: {} };
      res.writeHead(fail.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    delete headers['content-length'];
    let upstream;
    try {
      upstream = await fetch(new URL(req.url, target), {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
    } catch {
      req.socket.destroy();
      return;
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    if (isWrite && lose.has(writes.length)) {
      // The server has applied the write; the phone never hears of it.
      req.socket.destroy();
      return;
    }
    const out = {};
    upstream.headers.forEach((v, k) => {
      if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'content-length') out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${port}`,
    writes,
    /** loseAnswerOf(n): the n-th write (1-based, counted from the start) is applied but not answered. */
    loseAnswerOf(n) {
      lose.add(n);
    },
    /** failWrites(prefix, status): writes to paths starting with prefix are answered status, not forwarded. */
    failWrites(prefix, status) {
      failing.push({ prefix, status });
    },
    close: () => new Promise((ok) => {
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    }),
  };
}
