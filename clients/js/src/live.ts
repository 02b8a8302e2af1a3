// The app's sync: SyncClient (sync.ts, the protocol) over a PersistentStore
// kept per user, caught up again whenever the realtime connection comes
// back. A thin layer: what to fetch and how to apply it stays in sync.ts.
import type PocketBase from 'pocketbase';
import { SYNCED_COLLECTIONS, SyncClient, type SyncOptions, type SyncResult } from './sync.js';
import { PersistentStore, storeKey, type DurableStore } from './store.js';
import { WriteQueue, type WriteQueueOptions } from './queue.js';
import type { KeyValueStorage } from './storage.js';

// Timers exist in every runtime the app targets but not in the ES2020 lib
// this package compiles against (see sync.ts).
declare function setTimeout(handler: () => void, ms: number): unknown;
declare function clearTimeout(id: unknown): void;

/** Waits between attempts to start while the server cannot be reached, in ms. */
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

/** LiveSync's options: sync's, the store (PersistentStore on storage by default), the queue's. */
export interface LiveSyncOptions extends SyncOptions {
  /** The user's store, e.g. a SqliteStore; by default a PersistentStore kept in storage. */
  store?: DurableStore;
  queue?: WriteQueueOptions;
}

/** Whether the last contact with the server worked. */
export type Connection = 'connecting' | 'online' | 'offline';

/**
 * LiveSync keeps the signed-in user's PersistentStore in step with the
 * server: start() subscribes to realtime and syncs, and every (re)connect of
 * the realtime stream (PB_CONNECT, sent by the server when the SDK
 * reconnects after the network came back) syncs again, which brings in what
 * was missed while offline. The store stays readable throughout.
 *
 *   const live = await LiveSync.open(pb, AsyncStorage);
 *   live.store.subscribe(render);
 *   live.onConnection = (c) => setBanner(c === 'offline');
 *   await live.start();
 *   ...
 *   await live.stop();          // or live.destroy() when signing out
 */
export class LiveSync {
  /** Told whenever `connection` changes. */
  onConnection?: (c: Connection) => void;
  /** Told of errors of background syncs. */
  onError?: (err: unknown) => void;
  private state: Connection = 'connecting';
  private client: SyncClient;
  private readonly topics: string[];
  private unsubscribeConnect: (() => Promise<void>) | null = null;
  private retryTimer: unknown = null;
  private attempts = 0;
  private running = false;
  private previousOnDisconnect: PocketBase['realtime']['onDisconnect'];
  /** The app's writes, sent whenever the connection comes back (queue.ts). */
  readonly queue: WriteQueue;

  private constructor(
    private readonly pb: PocketBase,
    readonly store: DurableStore,
    options: LiveSyncOptions,
  ) {
    this.queue = new WriteQueue(pb, store, options.queue);
    this.client = new SyncClient(pb, store, { ...options, onError: (err) => this.failed(err) });
    this.topics = ['PB_CONNECT', ...(options.collections ?? SYNCED_COLLECTIONS).map((c) => `${c}/*`)];
    this.previousOnDisconnect = pb.realtime.onDisconnect;
  }

  /** Opens the signed-in user's store (restored from storage) for pb. */
  static async open(pb: PocketBase, storage: KeyValueStorage, options: LiveSyncOptions = {}): Promise<LiveSync> {
    const user = pb.authStore.record;
    if (!user || !pb.authStore.isValid) {
      throw new Error('hearth: LiveSync.open needs a signed-in client');
    }
    return new LiveSync(pb, options.store ?? (await PersistentStore.open(storage, storeKey(user.id))), options);
  }

  /** The state of the connection to the server. */
  get connection(): Connection {
    return this.state;
  }

  /**
   * Subscribes to realtime, then syncs. Resolves once the first sync is
   * done. When the server cannot be reached it rejects, the store keeps
   * what it had, and LiveSync tries again (after 1, 2, 5, 10, then every 30
   * seconds) until it gets through or stop() is called: the SDK retries a
   * realtime connection that broke, but not one that never opened.
   */
  async start(): Promise<SyncResult> {
    this.running = true;
    this.pb.realtime.onDisconnect = (subs) => {
      this.set('offline');
      this.previousOnDisconnect?.(subs);
    };
    try {
      this.unsubscribeConnect ??= await this.pb.realtime.subscribe('PB_CONNECT', () => {
        this.sync().catch(() => undefined);
      });
      const result = await this.client.start();
      this.attempts = 0;
      this.set('online');
      return result;
    } catch (err) {
      this.failed(err);
      await this.client.stop();
      await this.dropFailedSubscriptions();
      if (!this.running) {
        throw err;
      }
      const wait = RETRY_MS[Math.min(this.attempts++, RETRY_MS.length - 1)];
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.start().catch(() => undefined);
      }, wait);
      throw err;
    }
  }

  /**
   * Tells LiveSync what the device knows about its network (NetInfo in
   * React Native, the online/offline events in a browser). An open
   * realtime stream can outlive the network without an error for a long
   * time (a half-open connection, a browser's offline mode), so offline
   * ends realtime at once and shows 'offline'; online starts again, and its
   * sync brings what was missed.
   */
  async setOnline(online: boolean): Promise<void> {
    if (!online) {
      await this.stop();
      this.set('offline');
    } else if (!this.running) {
      await this.start().catch(() => undefined);
    }
  }

  /** Brings the store up to date now. */
  async sync(): Promise<SyncResult> {
    try {
      const result = await this.client.sync();
      this.set('online');
      return result;
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  /** Ends realtime, background syncs and the queue's retries; the store stays as it is. */
  async stop(): Promise<void> {
    this.running = false;
    await this.queue.stop();
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.pb.realtime.onDisconnect = this.previousOnDisconnect;
    const unsubscribe = this.unsubscribeConnect;
    this.unsubscribeConnect = null;
    await Promise.all([unsubscribe?.().catch(() => undefined), this.client.stop()]);
  }

  /** stop(), then removes the store from the device (signing out). */
  async destroy(): Promise<void> {
    await this.stop();
    await this.store.destroy();
  }

  // When a subscribe cannot connect, the SDK keeps its listener and hands
  // back no way to remove that one alone; left there, it would keep
  // realtime connecting after stop(). So a failed start clears the topics
  // LiveSync subscribes to: PB_CONNECT and each synced collection's '*'.
  private async dropFailedSubscriptions(): Promise<void> {
    this.unsubscribeConnect = null;
    await Promise.all(this.topics.map((t) => this.pb.realtime.unsubscribe(t).catch(() => undefined)));
  }

  private failed(err: unknown): void {
    // A status of 0 is the SDK's word for "no answer": the network, not
    // the request, failed.
    if ((err as { status?: unknown })?.status === 0) {
      this.set('offline');
    }
    this.onError?.(err);
  }

  private set(c: Connection): void {
    if (c === 'online') {
      // Back in touch: send what was written meanwhile (a no-op when the
      // queue is empty or already sending).
      this.queue.flush().catch(() => undefined);
    }
    if (c !== this.state) {
      this.state = c;
      this.onConnection?.(c);
    }
  }
}
