// Reference client for Hearth's offline sync: keeps a local store equal to
// what the records API would list for the signed-in user, across restarts
// and offline periods, with GET /api/sync plus realtime. docs/sync.md is
// the protocol; this module is one way to follow it.
//
// It uses only the pocketbase SDK instance it is given and ES2020: no Node
// or DOM APIs, so it runs in React Native (give the SDK an EventSource
// polyfill, e.g. react-native-sse, for realtime).
//
//   const store = new MemoryStore();          // or your SQLite-backed LocalStore
//   const sync = new SyncClient(pb, store);
//   await sync.start();                       // subscribe, then catch up
//   ...
//   await sync.stop();
import type PocketBase from 'pocketbase';
import type { RecordModel, RecordSubscription } from 'pocketbase';
import { SYNCED_COLLECTIONS } from './types.gen.js';

// Timers exist in every JavaScript runtime the app targets (React Native,
// browsers, Node) but in none of the ES2020 lib this module compiles
// against, which keeps Node- and DOM-only APIs out.
declare function setTimeout(handler: () => void, ms: number): unknown;
declare function clearTimeout(id: unknown): void;

// Every collection the feed covers, generated from the server's specs.
export { SYNCED_COLLECTIONS };

/** One item of a sync page (see docs/sync.md). */
export interface Change {
  op: 'upsert' | 'delete' | 'revoke';
  collection: string;
  id: string;
  /** Present for upserts: the record as the records API serializes it. */
  record?: RecordModel;
}

/**
 * The body of a 200 response of GET /api/sync. The cursor is an opaque
 * string: store it as it is and send it back unchanged; it is only valid
 * for the collections it was issued for.
 */
export interface SyncPage {
  cursor: string;
  more: boolean;
  changes: Change[];
}

/** The cursor of a full sync, valid for every collection set. */
export const START_CURSOR = '0';

/**
 * Where the synced records live on the device. Implement it over SQLite,
 * MMKV, IndexedDB...: applyPage must store the changes and the cursor
 * together (one transaction), or a crash between them loses changes.
 */
export interface LocalStore {
  /** The cursor of the last applied page; START_CURSOR ('0') when empty. */
  cursor(): Promise<string>;
  /** Applies a page's changes in order and stores its cursor, atomically. */
  applyPage(changes: Change[], cursor: string): Promise<void>;
  /** One stored record, for deduplicating realtime events. */
  get(collection: string, id: string): Promise<RecordModel | undefined>;
  /** Stores a record received through realtime (the cursor does not move). */
  put(collection: string, record: RecordModel): Promise<void>;
  /** Removes a record deleted through realtime. */
  remove(collection: string, id: string): Promise<void>;
  /** Forgets everything (records and cursor), before a resync from 0. */
  clear(): Promise<void>;
}

/** A LocalStore in memory: the reference, and enough for tests. */
export class MemoryStore implements LocalStore {
  private pos = START_CURSOR;
  readonly records = new Map<string, Map<string, RecordModel>>();

  async cursor(): Promise<string> {
    return this.pos;
  }

  async applyPage(changes: Change[], cursor: string): Promise<void> {
    for (const c of changes) {
      if (c.op === 'upsert' && c.record) {
        this.table(c.collection).set(c.id, c.record);
      } else {
        this.table(c.collection).delete(c.id);
      }
    }
    this.pos = cursor;
  }

  async get(collection: string, id: string): Promise<RecordModel | undefined> {
    return this.records.get(collection)?.get(id);
  }

  async put(collection: string, record: RecordModel): Promise<void> {
    this.table(collection).set(record.id, record);
  }

  async remove(collection: string, id: string): Promise<void> {
    this.records.get(collection)?.delete(id);
  }

  async clear(): Promise<void> {
    this.records.clear();
    this.pos = START_CURSOR;
  }

  /** The stored records of a collection. */
  list(collection: string): RecordModel[] {
    return [...(this.records.get(collection)?.values() ?? [])];
  }

  private table(collection: string): Map<string, RecordModel> {
    let t = this.records.get(collection);
    if (!t) {
      t = new Map();
      this.records.set(collection, t);
    }
    return t;
  }
}

export interface SyncOptions {
  /**
   * Collections to keep; all synced collections by default. A store's
   * cursor serves only the set it was synced with: when the set changes,
   * the client rebuilds the store from cursor 0 (see sync()).
   */
  collections?: readonly string[];
  /** Changes per page, 1 to 1000 (the server's default is 200). */
  limit?: number;
  /** Delay before the catch-up sync that follows realtime events, in ms. */
  debounceMs?: number;
  /** Told of errors of background syncs (started by realtime events). */
  onError?: (err: unknown) => void;
}

/** Result of one sync() call. */
export interface SyncResult {
  pages: number;
  changes: number;
  /**
   * True when the store was rebuilt from cursor 0: the server answered
   * 410 (its log no longer reaches the cursor), or 400 because the cursor
   * was issued for another collection set.
   */
  resynced: boolean;
}

/**
 * SyncClient keeps a LocalStore in step with the server.
 *
 * sync() pages through /api/sync from the stored cursor until no page
 * remains; each page holds at most `limit` changes, and a sync that stops
 * (the app is killed, the network drops) resumes from the last page
 * stored. When the server cannot continue the stored cursor (410, or a
 * cursor of another collection set) it clears the store and syncs from 0.
 * start() subscribes to realtime first and then syncs, so that no
 * change falls between the two; realtime events are applied at once when
 * newer than the stored copy (by `updated`) and then trigger a sync, which
 * is the authority: it also reports deletions and lost access, which
 * realtime cannot.
 */
export class SyncClient {
  private readonly collections: readonly string[];
  private running: Promise<SyncResult> | null = null;
  private again = false;
  private timer: unknown = null;
  private unsubscribers: Array<() => Promise<void>> = [];

  constructor(
    private readonly pb: PocketBase,
    private readonly store: LocalStore,
    private readonly options: SyncOptions = {},
  ) {
    this.collections = options.collections ?? SYNCED_COLLECTIONS;
  }

  /**
   * Brings the store up to date. Concurrent calls share one run; a call
   * made while a run is in flight makes it go round once more.
   */
  sync(): Promise<SyncResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      const total: SyncResult = { pages: 0, changes: 0, resynced: false };
      try {
        do {
          this.again = false;
          const r = await this.catchUp();
          total.pages += r.pages;
          total.changes += r.changes;
          total.resynced ||= r.resynced;
        } while (this.again);
        return total;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Subscribes to realtime for every kept collection, then syncs. */
  async start(): Promise<SyncResult> {
    for (const name of this.collections) {
      const unsubscribe = await this.pb
        .collection(name)
        .subscribe('*', (e) => this.onRealtime(name, e), { requestKey: null });
      this.unsubscribers.push(unsubscribe);
    }
    return this.sync();
  }

  /** Ends the realtime subscriptions and any pending catch-up. */
  async stop(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const subs = this.unsubscribers;
    this.unsubscribers = [];
    await Promise.all(subs.map((u) => u()));
    await this.running?.catch(() => undefined);
  }

  private async catchUp(): Promise<SyncResult> {
    const result: SyncResult = { pages: 0, changes: 0, resynced: false };
    for (;;) {
      const cursor = await this.store.cursor();
      let page: SyncPage;
      try {
        page = await this.pb.send<SyncPage>('/api/sync', {
          method: 'GET',
          query: this.query(cursor),
          requestKey: null,
        });
      } catch (err) {
        // 410: the log no longer reaches back to our cursor (or the cursor
        // is a bare number from the first protocol). 400 naming the
        // collections: the cursor was issued for another set, whose sync
        // skipped the changes of ours. Either way, start over from 0, once
        // per call; a second time would be a server fault.
        if ((statusOf(err) === 410 || isSetMismatch(err)) && !result.resynced) {
          await this.store.clear();
          result.resynced = true;
          continue;
        }
        throw err;
      }
      await this.store.applyPage(page.changes, page.cursor);
      result.pages++;
      result.changes += page.changes.length;
      if (!page.more) {
        return result;
      }
    }
  }

  private query(cursor: string): Record<string, string | number> {
    // String(): a store written by a client of the first protocol holds a
    // number, which the server answers with 410.
    const q: Record<string, string | number> = { cursor: String(cursor) };
    if (this.options.collections) {
      q.collections = this.collections.join(',');
    }
    if (this.options.limit) {
      q.limit = this.options.limit;
    }
    return q;
  }

  private async onRealtime(collection: string, e: RecordSubscription<RecordModel>): Promise<void> {
    try {
      if (e.action === 'delete') {
        await this.store.remove(collection, e.record.id);
      } else {
        const held = await this.store.get(collection, e.record.id);
        // An event can arrive after a sync that already returned a newer
        // state of the record: keep the newer one.
        if (!held || String(e.record.updated ?? '') >= String(held.updated ?? '')) {
          await this.store.put(collection, e.record);
        }
      }
    } catch (err) {
      this.options.onError?.(err);
    }
    this.scheduleSync();
  }

  private scheduleSync(): void {
    if (this.timer !== null) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sync().catch((err) => this.options.onError?.(err));
    }, this.options.debounceMs ?? 250);
  }
}

function isSetMismatch(err: unknown): boolean {
  if (statusOf(err) !== 400 || typeof err !== 'object' || err === null || !('response' in err)) {
    return false;
  }
  const data = (err as { response?: { data?: Record<string, { code?: unknown }> } }).response?.data;
  return data?.collections?.code === 'sync_cursor_collections';
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const s = (err as { status: unknown }).status;
    return typeof s === 'number' ? s : undefined;
  }
  return undefined;
}
