// The offline store on SQLite (expo-sqlite on the phone): one row per
// record, written incrementally, so that it scales past what one
// AsyncStorage item holds (Android cannot read an item over about 2 MB).
import type { RecordModel } from 'pocketbase';
import { START_CURSOR } from './sync.js';
import { OfflineStore, type QueuedWrite, type RefusedWrite, type Tx } from './offline.js';
import type { DurableStore } from './store.js';

/** A value SQLite binds. */
export type SqlValue = string | number | null;

/**
 * The part of expo-sqlite's SQLiteDatabase (SDK 54) the store uses: an
 * `openDatabaseAsync(...)` result is one as it is. Tests give one over
 * another SQLite binding.
 */
export interface SqliteDatabase {
  execAsync(source: string): Promise<void>;
  runAsync(source: string, params: SqlValue[]): Promise<unknown>;
  getAllAsync<T>(source: string, params: SqlValue[]): Promise<T[]>;
  /** Runs task in one transaction: committed when it resolves, rolled back when it throws. */
  withTransactionAsync(task: () => Promise<void>): Promise<void>;
}

/**
 * The schema, created when missing. Rows hold JSON: the record as the
 * records API serializes it (with the queued writes applied, as shown),
 * and the queued and refused writes.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS hearth_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hearth_records (
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hearth_queue (seq INTEGER PRIMARY KEY NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hearth_refused (seq INTEGER PRIMARY KEY NOT NULL, body TEXT NOT NULL);
`;

/** Rows read at a time when the store opens. */
const LOAD_SLICE = 2000;

/**
 * SqliteStore keeps the offline store in a SQLite database, one row per
 * record: each change (a sync page, a realtime record, a queued write and
 * what it shows) is one transaction that writes only the rows it touches,
 * the cursor and the queue included, so a crash leaves the store as it was
 * before or after that change. Open one database per signed-in user.
 *
 *   import * as SQLite from 'expo-sqlite';
 *   const db = await SQLite.openDatabaseAsync(`hearth-${user.id}.db`);
 *   const store = await SqliteStore.open(db);
 *   const live = await LiveSync.open(pb, AsyncStorage, { store });
 *
 * The records are also held in memory, as in PersistentStore: the screens
 * read them synchronously (list()).
 */
export class SqliteStore extends OfflineStore implements DurableStore {
  private constructor(readonly db: SqliteDatabase) {
    super();
  }

  /**
   * Opens the store in db, creating its tables when missing. When the
   * records cannot be read (a row that is not JSON, a damaged table) but
   * the queue can, the records and the cursor are dropped and the queue
   * and the refusals kept: the next sync starts from the beginning and
   * brings the records back, and the writes made offline are still sent.
   * When the queue cannot be read either, open throws.
   */
  static async open(db: SqliteDatabase): Promise<SqliteStore> {
    await db.execAsync(SQLITE_SCHEMA);
    const store = new SqliteStore(db);
    const [queue, refused] = await Promise.all([
      db.getAllAsync<{ body: string }>('SELECT body FROM hearth_queue ORDER BY seq', []),
      db.getAllAsync<{ body: string }>('SELECT body FROM hearth_refused ORDER BY seq', []),
    ]);
    const writes = queue.map((q) => JSON.parse(q.body) as QueuedWrite);
    const refusals = refused.map((r) => JSON.parse(r.body) as RefusedWrite);
    let records: Array<{ collection: string; record: RecordModel }>;
    let cursor: string;
    try {
      records = await readRecords(db);
      const meta = await db.getAllAsync<{ value: string }>("SELECT value FROM hearth_meta WHERE key = 'cursor'", []);
      cursor = meta[0]?.value ?? START_CURSOR;
    } catch {
      // clear() deletes the record rows and the cursor in one transaction
      // and shows the queued writes again, as after a resync.
      store.load([], START_CURSOR, writes, refusals);
      await store.clear();
      return store;
    }
    store.load(records, cursor, writes, refusals);
    return store;
  }

  /**
   * Forgets everything and empties the database (signing out). VACUUM
   * rewrites the file without the freed pages, which still hold the rows'
   * text after a DELETE: nothing of the user stays in the file.
   */
  async destroy(): Promise<void> {
    this.records.clear();
    this.load([], START_CURSOR, [], []);
    await this.db.withTransactionAsync(async () => {
      for (const table of ['hearth_meta', 'hearth_records', 'hearth_queue', 'hearth_refused']) {
        await this.db.runAsync(`DELETE FROM ${table}`, []);
      }
    });
    await this.db.execAsync('VACUUM');
    this.notify();
  }

  protected async persist(tx: Tx): Promise<void> {
    const db = this.db;
    await db.withTransactionAsync(async () => {
      if (tx.cleared) {
        await db.runAsync('DELETE FROM hearth_records', []);
      }
      for (const { collection, id, record } of tx.records) {
        if (record) {
          await db.runAsync('INSERT OR REPLACE INTO hearth_records (collection, id, body) VALUES (?, ?, ?)', [collection, id, JSON.stringify(record)]);
        } else {
          await db.runAsync('DELETE FROM hearth_records WHERE collection = ? AND id = ?', [collection, id]);
        }
      }
      if (tx.cursor !== undefined) {
        await db.runAsync("INSERT OR REPLACE INTO hearth_meta (key, value) VALUES ('cursor', ?)", [tx.cursor]);
      }
      for (const w of tx.queued) {
        await db.runAsync('INSERT OR REPLACE INTO hearth_queue (seq, body) VALUES (?, ?)', [w.seq, JSON.stringify(w)]);
      }
      for (const seq of tx.unqueued) {
        await db.runAsync('DELETE FROM hearth_queue WHERE seq = ?', [seq]);
      }
      for (const r of tx.refused) {
        await db.runAsync('INSERT OR REPLACE INTO hearth_refused (seq, body) VALUES (?, ?)', [r.seq, JSON.stringify(r)]);
      }
      for (const seq of tx.dismissed) {
        await db.runAsync('DELETE FROM hearth_refused WHERE seq = ?', [seq]);
      }
    });
  }
}

// readRecords reads every stored record, in slices in key order: a slice's
// rows are parsed and dropped before the next is read, so the rows of the
// whole store (100,000 messages: 40 MB of text) are never all in memory
// twice.
async function readRecords(db: SqliteDatabase): Promise<Array<{ collection: string; record: RecordModel }>> {
  const records: Array<{ collection: string; record: RecordModel }> = [];
  for (let last = ['', '']; ; ) {
    const rows = await db.getAllAsync<{ collection: string; id: string; body: string }>(
      'SELECT collection, id, body FROM hearth_records WHERE (collection, id) > (?, ?) ORDER BY collection, id LIMIT ?',
      [last[0], last[1], LOAD_SLICE],
    );
    for (const r of rows) {
      records.push({ collection: r.collection, record: JSON.parse(r.body) as RecordModel });
    }
    if (rows.length < LOAD_SLICE) {
      return records;
    }
    last = [rows[rows.length - 1].collection, rows[rows.length - 1].id];
  }
}
