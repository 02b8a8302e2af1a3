// What the offline stores (PersistentStore on a key-value storage,
// SqliteStore on expo-sqlite) share: the synced records in memory for the
// screens, the write queue beside them, and one change description (Tx)
// that each store persists in its own way, atomically.
import type { RecordModel } from 'pocketbase';
import { MemoryStore, START_CURSOR, type Change, type LocalStore } from './sync.js';

/** A file of a queued write, kept until the write is sent. */
export interface QueuedFile {
  /** The record's file field (`attachments`). */
  field: string;
  name: string;
  type: string;
  /**
   * React Native: the file's URI (`file://...`), which must stay readable
   * until the write is sent (copy a picked image into the app's documents).
   */
  uri?: string;
  /** Elsewhere (web, Node): the file's bytes, base64. */
  base64?: string;
}

/** One write made by the app and not yet accepted or refused by the server. */
export interface QueuedWrite {
  /** Position in the queue: writes are sent in this order. */
  seq: number;
  op: 'create' | 'update' | 'delete';
  collection: string;
  /** The record's id; a create's is made on the device (newRecordId). */
  id: string;
  /** The fields sent (no files). */
  data: Record<string, unknown>;
  files: QueuedFile[];
  /** The record as the store held it before this write: put back on refusal. */
  before?: RecordModel;
  /** Sending attempts that failed with a server error (5xx, 429). */
  attempts: number;
}

/** A queued write the server refused: kept for the app to show, never sent again. */
export interface RefusedWrite extends QueuedWrite {
  /** The HTTP status of the refusal. */
  status: number;
  /** The server's message. */
  message: string;
  /** The server's per-field errors (`response.data`), if any. */
  errors: Record<string, unknown>;
}

/** The field that marks a record of the store as not yet accepted by the server. */
export const PENDING_FIELD = '_pending';

/** Whether a stored record holds writes the server has not accepted yet. */
export function isPending(record: RecordModel | undefined): boolean {
  return record?.[PENDING_FIELD] === true;
}

/**
 * One atomic change of an offline store: what a store persists in one
 * transaction. `records` are the stored records after the change (null:
 * removed), `cursor` is set when a sync page moved it.
 */
export interface Tx {
  cleared?: boolean;
  cursor?: string;
  records: Array<{ collection: string; id: string; record: RecordModel | null }>;
  queued: QueuedWrite[];
  /** seq of queued writes removed (sent, refused). */
  unqueued: number[];
  refused: RefusedWrite[];
  /** seq of refused writes the app dismissed. */
  dismissed: number[];
}

/** What a write queue needs of the store it keeps its writes in. */
export interface QueueStore extends LocalStore {
  /** The writes not yet sent, in order. */
  writes(): QueuedWrite[];
  /** The writes the server refused, oldest first, until dismissed. */
  refusals(): RefusedWrite[];
  /** Queues w and shows its record as pending, atomically. */
  enqueue(w: Omit<QueuedWrite, 'seq' | 'before' | 'attempts'>): Promise<QueuedWrite>;
  /** Removes w from the queue, stores the server's answer (or none: a delete), atomically. */
  sent(w: QueuedWrite, record: RecordModel | null): Promise<void>;
  /** Removes w from the queue, puts back what it changed, keeps the refusal, atomically. */
  refuse(w: QueuedWrite, refusal: Pick<RefusedWrite, 'status' | 'message' | 'errors'>): Promise<void>;
  /** Counts a failed attempt of w (kept across restarts). */
  attempted(w: QueuedWrite): Promise<void>;
  /** Forgets a refusal the app has shown. */
  dismiss(seq: number): Promise<void>;
  /** One stored record, synchronously (the screens' read). */
  record(collection: string, id: string): RecordModel | undefined;
}

/**
 * OfflineStore is a MemoryStore (the screens read it synchronously with
 * list()) plus a write queue, whose every change is persisted by the
 * subclass as one transaction (persist), then told to the listeners. A
 * record with queued writes is shown as the server's copy with those
 * writes applied on top and PENDING_FIELD set, whatever sync or realtime
 * bring for it meanwhile.
 */
export abstract class OfflineStore extends MemoryStore implements QueueStore {
  protected queue: QueuedWrite[] = [];
  protected refused: RefusedWrite[] = [];
  /** The cursor of the last applied page. */
  protected at = START_CURSOR;
  private listeners = new Set<() => void>();
  private chain: Promise<void> = Promise.resolve();

  /** Writes tx durably (one transaction). */
  protected abstract persist(tx: Tx): Promise<void>;

  /** Calls listener after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async cursor(): Promise<string> {
    return this.at;
  }

  writes(): QueuedWrite[] {
    return [...this.queue];
  }

  refusals(): RefusedWrite[] {
    return [...this.refused];
  }

  record(collection: string, id: string): RecordModel | undefined {
    return this.records.get(collection)?.get(id);
  }

  async applyPage(changes: Change[], cursor: string): Promise<void> {
    await this.change((tx) => {
      for (const c of changes) {
        this.set(tx, c.collection, c.id, c.op === 'upsert' && c.record ? c.record : null, true);
      }
      tx.cursor = cursor;
      this.at = cursor;
    });
  }

  async put(collection: string, record: RecordModel): Promise<void> {
    await this.change((tx) => this.set(tx, collection, record.id, record, true));
  }

  async remove(collection: string, id: string): Promise<void> {
    await this.change((tx) => this.set(tx, collection, id, null, true));
  }

  /** Forgets the synced records and the cursor (a resync); queued writes stay, and stay shown. */
  async clear(): Promise<void> {
    await this.change((tx) => {
      tx.cleared = true;
      this.records.clear();
      tx.cursor = START_CURSOR;
      this.at = START_CURSOR;
      for (const w of this.queue) {
        this.set(tx, w.collection, w.id, null, false);
      }
    });
  }

  async enqueue(input: Omit<QueuedWrite, 'seq' | 'before' | 'attempts'>): Promise<QueuedWrite> {
    let w!: QueuedWrite;
    await this.change((tx) => {
      const last = this.queue[this.queue.length - 1]?.seq ?? this.refused.reduce((m, r) => Math.max(m, r.seq), 0);
      w = { ...input, seq: last + 1, attempts: 0 };
      const held = this.record(w.collection, w.id);
      if (held) {
        w.before = held;
      }
      this.queue.push(w);
      tx.queued.push(w);
      this.set(tx, w.collection, w.id, held ?? null, false);
    });
    return w;
  }

  async sent(w: QueuedWrite, record: RecordModel | null): Promise<void> {
    await this.change((tx) => {
      this.unqueue(tx, w);
      this.set(tx, w.collection, w.id, record, true);
    });
  }

  async refuse(w: QueuedWrite, refusal: Pick<RefusedWrite, 'status' | 'message' | 'errors'>): Promise<void> {
    await this.change((tx) => {
      this.unqueue(tx, w);
      const r: RefusedWrite = { ...w, ...refusal };
      this.refused.push(r);
      tx.refused.push(r);
      this.set(tx, w.collection, w.id, w.before ?? null, true);
    });
  }

  async attempted(w: QueuedWrite): Promise<void> {
    await this.change((tx) => {
      const held = this.queue.find((q) => q.seq === w.seq);
      if (held) {
        held.attempts++;
        tx.queued.push(held);
      }
    });
  }

  async dismiss(seq: number): Promise<void> {
    await this.change((tx) => {
      this.refused = this.refused.filter((r) => r.seq !== seq);
      tx.dismissed.push(seq);
    });
  }

  /**
   * Loads what a subclass read back from its storage: the records as
   * stored, the cursor, the queue and the refusals.
   */
  protected load(records: Array<{ collection: string; record: RecordModel }>, cursor: string, queue: QueuedWrite[], refused: RefusedWrite[]): void {
    for (const { collection, record } of records) {
      this.tableOf(collection).set(record.id, record);
    }
    this.queue = [...queue].sort((a, b) => a.seq - b.seq);
    this.refused = [...refused].sort((a, b) => a.seq - b.seq);
    this.at = cursor;
  }

  protected notify(): void {
    for (const l of this.listeners) {
      l();
    }
  }

  // change runs edit on the memory state at once (so that changes are
  // applied in call order), then persists what it did after the persists
  // queued before it, then tells the listeners. A failed persist fails its
  // caller but not the changes after it.
  protected async change(edit: (tx: Tx) => void): Promise<void> {
    const tx: Tx = { records: [], queued: [], unqueued: [], refused: [], dismissed: [] };
    edit(tx);
    const p = this.chain.then(() => this.persist(tx));
    this.chain = p.catch(() => undefined);
    await p;
    this.notify();
  }

  private unqueue(tx: Tx, w: QueuedWrite): void {
    this.queue = this.queue.filter((q) => q.seq !== w.seq);
    tx.unqueued.push(w.seq);
  }

  // set stores the record of (collection, id) given by the server (null:
  // none), with the queued writes of that record applied on top. fresh
  // says that the value comes from the server, and so is what a refusal of
  // the record's first queued write puts back.
  private set(tx: Tx, collection: string, id: string, server: RecordModel | null, fresh: boolean): void {
    const pending = this.queue.filter((w) => w.collection === collection && w.id === id);
    if (fresh && pending.length > 0) {
      pending[0].before = server ?? undefined;
      tx.queued.push(pending[0]);
    }
    let shown: RecordModel | null = server;
    for (const w of pending) {
      shown = w.op === 'delete' ? null : applyWrite(shown, w);
    }
    const table = this.tableOf(collection);
    if (shown) {
      table.set(id, shown);
    } else {
      table.delete(id);
    }
    tx.records.push({ collection, id, record: shown });
  }

  protected tableOf(collection: string): Map<string, RecordModel> {
    let t = this.records.get(collection);
    if (!t) {
      t = new Map();
      this.records.set(collection, t);
    }
    return t;
  }
}

// applyWrite is record as a queued create or update shows it before the
// server answers: the fields sent, the files by name, marked pending.
function applyWrite(record: RecordModel | null, w: QueuedWrite): RecordModel {
  const files: Record<string, string[]> = {};
  for (const f of w.files) {
    const field = f.field.replace(/\+$/, '');
    files[field] = [...(files[field] ?? (w.op === 'update' ? ((record?.[field] as string[] | undefined) ?? []) : [])), f.name];
  }
  const now = new Date().toISOString().replace('T', ' ');
  return {
    ...(record ?? { id: w.id, collectionId: '', collectionName: w.collection, created: now, updated: now }),
    ...w.data,
    ...files,
    [PENDING_FIELD]: true,
  } as RecordModel;
}
