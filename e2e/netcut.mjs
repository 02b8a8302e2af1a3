// A TCP relay in front of a server, whose link the test cuts and restores:
// the network loss a phone goes through, for clients that must ride it out.
// While cut, open connections are destroyed and new ones are refused, as
// when a phone loses its network.
//
//   const link = await relay(hearth.url);    // link.url reaches hearth.url
//   await link.cut();                        // ... offline ...
//   await link.restore();
//   await link.close();                      // in after()
import { connect, createServer } from 'node:net';
import { freePort } from './harness.mjs';

/** relay listens on a free loopback port and forwards to target (http://host:port). */
export async function relay(target) {
  const { hostname, port: targetPort } = new URL(target);
  const port = await freePort();
  const sockets = new Set();
  let server = null;

  const track = (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const listen = () => new Promise((ok, fail) => {
    server = createServer((client) => {
      const upstream = connect(Number(targetPort), hostname);
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const stop = () => new Promise((ok) => {
    for (const s of sockets) s.destroy();
    if (!server) return ok();
    server.close(() => ok());
    server = null;
  });

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    get up() { return server !== null; },
    /** cut drops every open connection and refuses new ones. */
    cut: stop,
    /** restore accepts connections again. */
    restore: () => (server ? Promise.resolve() : listen()),
    close: stop,
  };
}
