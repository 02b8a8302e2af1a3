// A LocalStore for SyncClient that survives restarts: the reference
// MemoryStore, written through to a KeyValueStorage after every change, so
// that the app shows its synced records at once on start and while the
// server is unreachable.
import type { RecordModel } from 'pocketbase';
import { MemoryStore, START_CURSOR, type Change } from './sync.js';
import type { KeyValueStorage } from './storage.js';

/** The storage key of a user's synced store. */
export function storeKey(userId: string): string {
  return `hearth.sync.${userId}`;
}

/**
 * What is written to storage: the cursor and every record, by collection.
 * Version 1 held the first protocol's numeric cursors, which the server no
 * longer serves: such a snapshot is dropped and the store syncs from the
 * start.
 */
interface Snapshot {
  version: 2;
  cursor: string;
  records: Record<string, RecordModel[]>;
}

/**
 * PersistentStore keeps every change of a MemoryStore in storage under one
 * key. One key is one write: AsyncStorage writes a single item atomically,
 * so a page's changes and its cursor are stored together, as LocalStore
 * requires, and a crash leaves either the old snapshot or the new one.
 * Writing the whole store on each change is right for what one person's
 * groups hold (hundreds to a few thousand records); an app that keeps far
 * more implements LocalStore over SQLite instead.
 *
 *   const store = await PersistentStore.open(AsyncStorage, storeKey(user.id));
 *   store.subscribe(() => render(store.list('messages')));
 */
export class PersistentStore extends MemoryStore {
  private listeners = new Set<() => void>();
  private writes: Promise<void> = Promise.resolve();
  // The cursor as of the last change, kept here so that a snapshot is
  // taken synchronously, in the order of the changes.
  private at = START_CURSOR;

  private constructor(
    private readonly storage: KeyValueStorage,
    readonly key: string,
  ) {
    super();
  }

  /** Loads the store kept under key (empty when there is none). */
  static async open(storage: KeyValueStorage, key: string): Promise<PersistentStore> {
    const store = new PersistentStore(storage, key);
    const raw = await storage.getItem(key);
    const snap = raw ? (JSON.parse(raw) as Snapshot) : undefined;
    if (snap?.version === 2) {
      const changes: Change[] = [];
      for (const [collection, records] of Object.entries(snap.records)) {
        for (const record of records) {
          changes.push({ seq: 0, op: 'upsert', collection, id: record.id, record });
        }
      }
      await MemoryStore.prototype.applyPage.call(store, changes, snap.cursor);
      store.at = snap.cursor;
    }
    return store;
  }

  /** Calls listener after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async applyPage(changes: Change[], cursor: string): Promise<void> {
    await super.applyPage(changes, cursor);
    this.at = cursor;
    await this.changed();
  }

  async put(collection: string, record: RecordModel): Promise<void> {
    await super.put(collection, record);
    await this.changed();
  }

  async remove(collection: string, id: string): Promise<void> {
    await super.remove(collection, id);
    await this.changed();
  }

  async clear(): Promise<void> {
    await super.clear();
    this.at = START_CURSOR;
    await this.changed();
  }

  /** Forgets everything and removes the key from storage (signing out). */
  async destroy(): Promise<void> {
    await super.clear();
    this.at = START_CURSOR;
    await this.write(() => this.storage.removeItem(this.key));
    this.notify();
  }

  // changed writes the snapshot, taken now, after the writes queued before
  // it, then tells the listeners.
  private async changed(): Promise<void> {
    const snap = JSON.stringify(this.snapshot());
    await this.write(() => this.storage.setItem(this.key, snap));
    this.notify();
  }

  // write runs op after the queued writes. A failed write fails its caller
  // (the sync that applied the page) but not the writes after it.
  private async write(op: () => Promise<void>): Promise<void> {
    const w = this.writes.then(op);
    this.writes = w.catch(() => undefined);
    await w;
  }

  private snapshot(): Snapshot {
    const records: Record<string, RecordModel[]> = {};
    for (const collection of this.records.keys()) {
      records[collection] = this.list(collection);
    }
    return { version: 2, cursor: this.at, records };
  }

  private notify(): void {
    for (const l of this.listeners) {
      l();
    }
  }
}
