// rn-xhr.mjs behaves like React Native's XMLHttpRequest where an event
// stream depends on it: each chunk grows responseText and fires
// readystatechange (LOADING) and progress while the response is still open.
// A plain node:http server stands in for hearth here; the realtime tests run
// the shim against hearth itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { XMLHttpRequest } from './rn-xhr.mjs';

let server, url, release;
before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/missing') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('nope');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'X-Seen-Accept': req.headers.accept || '' });
    // "é" is two bytes in UTF-8; the first chunk ends between them.
    const bytes = Buffer.from('data: caf\u00e9\n\n', 'utf8');
    res.write(bytes.subarray(0, bytes.length - 3));
    // The rest only once the client has seen the first chunk.
    release = () => {
      res.write(bytes.subarray(bytes.length - 3));
      res.end('data: bye\n\n');
    };
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((ok) => server.close(ok)));

test('each chunk is delivered while the response is open', async () => {
  const xhr = new XMLHttpRequest();
  const seen = [];
  let progress = 0;
  const done = new Promise((resolve, reject) => {
    xhr.onerror = () => reject(new Error('error event'));
    xhr.onprogress = () => { progress++; };
    xhr.onreadystatechange = () => {
      seen.push([xhr.readyState, xhr.responseText]);
      if (xhr.readyState === XMLHttpRequest.LOADING && xhr.responseText === 'data: caf') release();
      if (xhr.readyState === XMLHttpRequest.DONE) resolve();
    };
  });
  xhr.open('GET', `${url}/stream`, true);
  xhr.setRequestHeader('Accept', 'text/event-stream');
  xhr.send();
  await done;

  assert.equal(xhr.status, 200);
  assert.equal(xhr.getResponseHeader('x-seen-accept'), 'text/event-stream');
  assert.deepEqual(seen[0], [XMLHttpRequest.OPENED, '']);
  assert.deepEqual(seen[1], [XMLHttpRequest.HEADERS_RECEIVED, '']);
  const loading = seen.filter(([state]) => state === XMLHttpRequest.LOADING).map(([, text]) => text);
  // The first chunk was seen on its own (the server waited for it), and the
  // split "é" was never shown as a replacement character.
  assert.equal(loading[0], 'data: caf');
  assert.ok(loading.length >= 2, `LOADING fired ${loading.length} time(s)`);
  assert.ok(loading.every((t) => !t.includes('\ufffd')));
  assert.equal(progress, loading.length, 'a progress event per chunk');
  assert.deepEqual(seen.at(-1), [XMLHttpRequest.DONE, 'data: caf\u00e9\n\ndata: bye\n\n']);
});

test('an error status is reported with its body', async () => {
  const xhr = new XMLHttpRequest();
  await new Promise((resolve) => {
    xhr.onloadend = resolve;
    xhr.open('GET', `${url}/missing`);
    xhr.send();
  });
  assert.equal(xhr.readyState, XMLHttpRequest.DONE);
  assert.equal(xhr.status, 404);
  assert.equal(xhr.responseText, 'nope');
});

test('a refused connection fires error with status 0; abort fires abort once', async () => {
  const xhr = new XMLHttpRequest();
  const events = [];
  await new Promise((resolve) => {
    xhr.onerror = () => events.push('error');
    xhr.onloadend = resolve;
    xhr.open('GET', 'http://127.0.0.1:1/');
    xhr.send();
  });
  assert.deepEqual(events, ['error']);
  assert.equal(xhr.status, 0);

  const aborted = new XMLHttpRequest();
  let aborts = 0;
  aborted.onabort = () => { aborts++; };
  aborted.open('GET', `${url}/missing`);
  aborted.send();
  aborted.abort();
  aborted.abort();
  assert.equal(aborts, 1);
  assert.equal(aborted.readyState, XMLHttpRequest.UNSENT);
});
