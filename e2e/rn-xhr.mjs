// A stand-in for React Native's XMLHttpRequest, over node:http, so that
// react-native-sse (the EventSource React Native apps load) can be tested in
// Node with the semantics it depends on.
//
// What matters for a server-sent event stream is how the body arrives. React
// Native's XHR (Libraries/Network/XMLHttpRequest.js) sends "incremental"
// updates when onreadystatechange or onprogress is set: every chunk the
// networking layer receives is appended to responseText at once and fires
// readystatechange (readyState LOADING) and progress. The common npm XHR
// polyfills instead buffer the body until the response ends, which an
// endless SSE stream never does, so no SSE client works on them. This shim
// has React Native's semantics and only the surface react-native-sse uses
// (node_modules/react-native-sse/src/EventSource.js):
//
//   open(method, url, async), setRequestHeader, send(body), abort(),
//   readyState + the UNSENT..DONE constants (static and on instances),
//   status, responseText, timeout, withCredentials (ignored: no cookies here),
//   onreadystatechange, onprogress, onload, onerror, onabort, ontimeout,
//   onloadend, and addEventListener/removeEventListener for the same events.
//
// Usage:
//
//   import { XMLHttpRequest } from './rn-xhr.mjs';
//   globalThis.XMLHttpRequest = XMLHttpRequest;
import http from 'node:http';
import https from 'node:https';

const UNSENT = 0;
const OPENED = 1;
const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

const EVENTS = ['readystatechange', 'progress', 'load', 'error', 'abort', 'timeout', 'loadend'];

export class XMLHttpRequest {
  static UNSENT = UNSENT;
  static OPENED = OPENED;
  static HEADERS_RECEIVED = HEADERS_RECEIVED;
  static LOADING = LOADING;
  static DONE = DONE;
  UNSENT = UNSENT;
  OPENED = OPENED;
  HEADERS_RECEIVED = HEADERS_RECEIVED;
  LOADING = LOADING;
  DONE = DONE;

  readyState = UNSENT;
  status = 0;
  statusText = '';
  responseText = '';
  responseURL = '';
  timeout = 0;
  withCredentials = false;

  #method = 'GET';
  #url = '';
  #headers = {};
  #responseHeaders = {};
  #request = null;
  #decoder = null;
  #listeners = new Map();
  #finished = false;

  constructor() {
    for (const type of EVENTS) this[`on${type}`] = null;
  }

  open(method, url, async = true) {
    if (!async) throw new Error('rn-xhr: synchronous requests are not supported (nor by React Native)');
    this.#method = String(method).toUpperCase();
    this.#url = String(url);
    this.#headers = {};
    this.#finished = false;
    this.status = 0;
    this.responseText = '';
    this.#setState(OPENED);
  }

  setRequestHeader(name, value) {
    if (this.readyState !== OPENED) throw new Error('rn-xhr: setRequestHeader before open()');
    this.#headers[name] = String(value);
  }

  getResponseHeader(name) {
    const v = this.#responseHeaders[String(name).toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }

  getAllResponseHeaders() {
    return Object.entries(this.#responseHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  }

  send(body = null) {
    if (this.readyState !== OPENED) throw new Error('rn-xhr: send before open()');
    const url = new URL(this.#url);
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, { method: this.#method, headers: this.#headers });
    this.#request = req;
    if (this.timeout > 0) {
      req.setTimeout(this.timeout, () => {
        if (this.#finish()) {
          req.destroy();
          this.#setState(DONE);
          this.#emit('timeout');
          this.#emit('loadend');
        }
      });
    }
    req.on('response', (res) => {
      this.status = res.statusCode;
      this.statusText = res.statusMessage || '';
      this.responseURL = this.#url;
      this.#responseHeaders = res.headers;
      this.#decoder = new TextDecoder('utf-8');
      this.#setState(HEADERS_RECEIVED);
      // Every chunk is decoded (streaming, so a UTF-8 sequence split across
      // chunks stays whole), appended and announced, as React Native does.
      res.on('data', (chunk) => {
        if (this.#finished) return;
        this.responseText += this.#decoder.decode(chunk, { stream: true });
        this.#setState(LOADING);
        this.#emit('progress', { loaded: this.responseText.length, total: -1, lengthComputable: false });
      });
      res.on('end', () => {
        if (!this.#finish()) return;
        this.responseText += this.#decoder.decode();
        this.#setState(DONE);
        this.#emit('load');
        this.#emit('loadend');
      });
      res.on('error', (err) => this.#fail(err));
    });
    req.on('error', (err) => this.#fail(err));
    if (body !== null && body !== undefined) req.write(body);
    req.end();
  }

  abort() {
    if (!this.#finish()) return;
    this.#request?.destroy();
    // As in React Native: readyState goes to DONE with status 0, abort fires,
    // then the request is back to UNSENT.
    this.status = 0;
    if (this.readyState !== UNSENT) this.#setState(DONE);
    this.#emit('abort');
    this.#emit('loadend');
    this.readyState = UNSENT;
  }

  addEventListener(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
  }

  removeEventListener(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  // #finish marks the request settled; false when it already was, so that
  // end, error, timeout and abort report at most once.
  #finish() {
    if (this.#finished) return false;
    this.#finished = true;
    return true;
  }

  #fail(err) {
    if (!this.#finish()) return;
    this.status = 0;
    this.#setState(DONE);
    this.#emit('error', { message: err?.message });
    this.#emit('loadend');
  }

  #setState(state) {
    this.readyState = state;
    this.#emit('readystatechange');
  }

  #emit(type, fields = {}) {
    const event = { type, target: this, ...fields };
    this[`on${type}`]?.call(this, event);
    for (const listener of this.#listeners.get(type) || []) listener.call(this, event);
  }
}
