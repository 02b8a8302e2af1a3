// Realtime over the `eventsource` npm polyfill: what Node clients load.
import { EventSource } from 'eventsource';
import { realtimeSuite } from './realtime.mjs';

globalThis.EventSource = EventSource;
realtimeSuite(EventSource);
