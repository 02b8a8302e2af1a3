// Realtime over react-native-sse, the EventSource React Native apps install
// as global.EventSource, running on rn-xhr.mjs: an XMLHttpRequest with React
// Native's streaming semantics. So the stream is proven with the code a
// phone runs.
import assert from 'node:assert/strict';
// The package's entry point require()s an ES module (Metro bundles it for
// apps); Node loads the module itself.
import EventSource from 'react-native-sse/src/EventSource.js';
import { XMLHttpRequest } from './rn-xhr.mjs';
import { realtimeSuite } from './realtime.mjs';

globalThis.XMLHttpRequest = XMLHttpRequest;
globalThis.EventSource = EventSource;
realtimeSuite(EventSource, (pb) => {
  const xhr = pb.realtime.eventSource._xhr;
  assert.ok(xhr instanceof XMLHttpRequest, 'react-native-sse streams through the React Native-like XHR');
  assert.equal(xhr.readyState, XMLHttpRequest.LOADING, 'the stream is open and still loading');
});
