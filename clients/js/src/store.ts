// A LocalStore for SyncClient that survives restarts: the reference
// MemoryStore, written through to a KeyValueStorage after every change, so
// that the app shows its synced records at once on start and while the
// server is unreachable.
import type { RecordModel } from 'pocketbase';
import { START_CURSOR } from './sync.js';
import { OfflineStore, type QueueStore, type QueuedWrite, type RefusedWrite, type Tx } from './offline.js';
import type { KeyValueStorage } from './storage.js';

/** The storage key of a user's synced store. */
export function storeKey(userId: string): string {
  return `hearth.sync.${userId}`;
}

/**
 * What is written to storage: the cursor, every record by collection, and
 * the write queue (absent in snapshots of clients without one). Version 1
 * held the first protocol's numeric cursors, which the server no longer
 * serves: such a snapshot is dropped and the store syncs from the start.
 */
interface Snapshot {
  version: 2;
  cursor: string;
  records: Record<string, RecordModel[]>;
  queue?: QueuedWrite[];
  refused?: RefusedWrite[];
}

/**
 * The offline stores' common face: a LocalStore for sync, the write queue's
 * store, and what the screens read. PersistentStore (one key-value item)
 * and SqliteStore (expo-sqlite, a row per record) are the two.
 */
export interface DurableStore extends QueueStore {
  list(collection: string): RecordModel[];
  subscribe(listener: () => void): () => void;
  /** Forgets everything and removes it from the device (signing out). */
  destroy(): Promise<void>;
}

/**
 * PersistentStore keeps every change of the store in storage under one
 * key. One key is one write: AsyncStorage writes a single item atomically,
 * so a page's changes, its cursor and the queue are stored together, as
 * LocalStore requires, and a crash leaves either the old snapshot or the
 * new one. Writing the whole store on each change is right for what one
 * person's groups hold (hundreds to a few thousand records): Android's
 * AsyncStorage cannot read an item over about 2 MB (some 6,000 messages),
 * so an app that keeps more uses SqliteStore.
 *
 *   const store = await PersistentStore.open(AsyncStorage, storeKey(user.id));
 *   store.subscribe(() => render(store.list('messages')));
 */
export class PersistentStore extends OfflineStore implements DurableStore {
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
      const records = Object.entries(snap.records).flatMap(([collection, rs]) => rs.map((record) => ({ collection, record })));
      store.load(records, snap.cursor, snap.queue ?? [], snap.refused ?? []);
    }
    return store;
  }

  /** Forgets everything and removes the key from storage (signing out). */
  async destroy(): Promise<void> {
    this.records.clear();
    this.queue = [];
    this.refused = [];
    this.load([], START_CURSOR, [], []);
    await this.storage.removeItem(this.key);
    this.notify();
  }

  // persist writes the whole snapshot, taken now: the memory state already
  // holds tx.
  protected async persist(_tx: Tx): Promise<void> {
    await this.storage.setItem(this.key, JSON.stringify(this.snapshot()));
  }

  private snapshot(): Snapshot {
    const records: Record<string, RecordModel[]> = {};
    for (const collection of this.records.keys()) {
      records[collection] = this.list(collection);
    }
    return { version: 2, cursor: this.at, records, queue: this.writes(), refused: this.refusals() };
  }
}
