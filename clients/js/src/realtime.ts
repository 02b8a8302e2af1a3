// React Native has no EventSource, and the pocketbase SDK opens its realtime
// stream with the global one, so an app installs a polyfill before the
// first subscription: react-native-sse, which streams through React
// Native's XMLHttpRequest.
//
// One difference matters. The SDK learns that a stream broke through the
// `onerror` property (RealtimeService.initConnect sets
// eventSource.onerror), and only then reconnects and resubscribes.
// react-native-sse reports errors to addEventListener('error') listeners
// only, and does not reconnect by itself after a network error (it polls
// again only after a response that ended). Installed as it is, realtime
// dies silently at the first network loss. installEventSource therefore
// bridges the on<event> properties to listeners.

/** What the SDK needs of an EventSource class. */
export type EventSourceClass = abstract new (url: string, ...rest: any[]) => {
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  close(): void;
};

/**
 * Makes impl the global EventSource the SDK uses for realtime:
 *
 *   import EventSource from 'react-native-sse';
 *   installEventSource(EventSource);
 *
 * A class without on<event> properties (react-native-sse) gets them, set
 * through addEventListener. It replaces a browser's native EventSource too,
 * so that a web build streams through the same code as a phone.
 */
export function installEventSource(impl: EventSourceClass): void {
  (globalThis as { EventSource?: unknown }).EventSource = withHandlerProperties(impl);
}

const HANDLERS = ['open', 'message', 'error'] as const;

/** withHandlerProperties returns impl, or a subclass with onopen, onmessage and onerror. */
export function withHandlerProperties(impl: EventSourceClass): EventSourceClass {
  if ('onerror' in impl.prototype) {
    return impl;
  }
  abstract class Bridged extends impl {}
  for (const type of HANDLERS) {
    const slot = Symbol(type);
    Object.defineProperty(Bridged.prototype, `on${type}`, {
      configurable: true,
      get(this: Record<symbol, unknown>) {
        return this[slot] ?? null;
      },
      set(this: InstanceType<EventSourceClass> & Record<symbol, unknown>, handler: unknown) {
        const previous = this[slot] as ((event: unknown) => void) | undefined;
        if (previous) {
          this.removeEventListener(type, previous);
        }
        this[slot] = typeof handler === 'function' ? handler : undefined;
        if (typeof handler === 'function') {
          this.addEventListener(type, handler as (event: unknown) => void);
        }
      },
    });
  }
  return Bridged;
}
