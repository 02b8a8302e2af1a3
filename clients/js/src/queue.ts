// The write queue: creates, updates and deletes made by the app are stored
// with the synced records (one transaction), shown at once as pending, and
// sent to the server one at a time, in the order they were made, whenever
// it can be reached. docs/sync.md ("Writes made offline") is the contract.
import type PocketBase from 'pocketbase';
import type { RecordModel } from 'pocketbase';
import type { QueueStore, QueuedFile, QueuedWrite, RefusedWrite } from './offline.js';

// Timers and the few globals below exist in every runtime the app targets
// (React Native, browsers, Node) but not in the ES2020 lib this package
// compiles against (see sync.ts).
declare function setTimeout(handler: () => void, ms: number): unknown;
declare function clearTimeout(id: unknown): void;
declare const globalThis: {
  crypto?: { getRandomValues(a: Uint8Array): Uint8Array };
  File?: new (parts: unknown[], name: string, options?: { type?: string }) => unknown;
  btoa?: (s: string) => string;
  atob?: (s: string) => string;
};

/** A file the app attaches: a Blob or File (web), or React Native's `{ uri, name, type }`. */
export type AttachedFile =
  | { uri: string; name: string; type?: string }
  | { name?: string; type: string; size: number; arrayBuffer(): Promise<ArrayBuffer> };

/** Waits before sending again after a network failure or a server error, in ms. */
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

/**
 * Server errors (5xx, 429) a write may meet before it counts as refused:
 * a server that fails a write this often will not take it, and the writes
 * queued behind it must not wait forever.
 */
export const MAX_ATTEMPTS = 8;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * newRecordId makes a record id as PocketBase does: 15 characters of
 * [a-z0-9], from the runtime's cryptographic random source (install
 * `react-native-get-random-values` or `expo-crypto`'s polyfill on a phone).
 */
export function newRecordId(): string {
  const c = globalThis.crypto;
  if (!c) {
    throw new Error('hearth: newRecordId needs crypto.getRandomValues');
  }
  // 252 is the largest multiple of 36 below 256: bytes past it are
  // dropped, so that every character is equally likely.
  let id = '';
  while (id.length < 15) {
    for (const b of c.getRandomValues(new Uint8Array(32))) {
      if (b < 252 && id.length < 15) {
        id += ID_ALPHABET[b % 36];
      }
    }
  }
  return id;
}

export interface WriteQueueOptions {
  /** Told of each write the server refused (also kept: store.refusals()). */
  onRefused?: (r: RefusedWrite) => void;
  /** Waits between attempts, in ms (the last one repeats). */
  retryMs?: readonly number[];
}

/**
 * WriteQueue sends the app's writes through the store's queue.
 *
 *   const queue = new WriteQueue(pb, live.store);
 *   const id = await queue.create('messages', { group, body: 'hi' }, { attachments: [photo] });
 *   await queue.update('messages', id, { body: 'hi!' });
 *   live.onConnection = (c) => c === 'online' && queue.flush();
 *
 * Each write is stored (with its files) and shown in the store as pending
 * before any request; then flush() sends the queue in order. A create
 * carries an id made on the device, so a create whose answer was lost is
 * sent again with the same id, and the server's "id exists" for a record
 * equal to it counts as done; an update sends the same fields again; a
 * delete answered 404 is done. A network failure (no answer), an ended
 * session (401) or a server error (5xx, 429; at most MAX_ATTEMPTS) stops the queue and it tries again after 1, 2, 5, 10,
 * then every 30 seconds. Any other answer of 400 to 499 is a refusal: the
 * write leaves the queue, the store puts back what it changed, and the
 * refusal is kept with the server's message (store.refusals()) until the
 * app dismisses it (store.dismiss(seq)). It is never sent again.
 */
export class WriteQueue {
  private flushing: Promise<void> | null = null;
  private again = false;
  private timer: unknown = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly pb: PocketBase,
    readonly store: QueueStore,
    private readonly options: WriteQueueOptions = {},
  ) {}

  /**
   * Queues the creation of a record and returns its id. files maps a file
   * field to the files to upload into it.
   */
  async create(collection: string, data: Record<string, unknown>, files: Record<string, AttachedFile[]> = {}): Promise<string> {
    const id = typeof data.id === 'string' && data.id ? data.id : newRecordId();
    await this.add({ op: 'create', collection, id, data: { ...data, id }, files: await keepFiles(files) });
    return id;
  }

  /** Queues an update; files are added to the file fields ("attachments+"). */
  async update(collection: string, id: string, data: Record<string, unknown>, files: Record<string, AttachedFile[]> = {}): Promise<void> {
    await this.add({ op: 'update', collection, id, data, files: await keepFiles(files) });
  }

  /** Queues a delete. */
  async delete(collection: string, id: string): Promise<void> {
    await this.add({ op: 'delete', collection, id, data: {}, files: [] });
  }

  /**
   * Queues the signed-in user's answer to an event: an update of their
   * RSVP when the store holds one, else a create (the server decides
   * between going and waitlisted). The create names the user, which the
   * server would fill anyway, so that the pending record is found as
   * theirs (by the screens, and by the next answer before it is sent).
   * Until the server's record arrives, the pending status is what was
   * asked: "going" may become "waitlisted".
   */
  async rsvp(event: string, status: 'going' | 'maybe' | 'declined'): Promise<string> {
    const user = this.pb.authStore.record?.id;
    const held = (this.store as QueueStore & { list?: (c: string) => RecordModel[] }).list?.('rsvps').find((r) => r.event === event && r.user === user);
    if (held) {
      await this.update('rsvps', held.id, { status });
      return held.id;
    }
    return this.create('rsvps', { event, user, status });
  }

  /**
   * Sends the queued writes in order until the queue is empty or the
   * server cannot be reached (then a retry is scheduled). Concurrent
   * calls share one run.
   */
  flush(): Promise<void> {
    this.stopped = false;
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Stops the retries (the queue stays stored); flush() starts again. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unschedule();
    await this.flushing?.catch(() => undefined);
  }

  private async add(w: Omit<QueuedWrite, 'seq' | 'before' | 'attempts'>): Promise<void> {
    await this.store.enqueue(w);
    // Sent in the background: the write is stored and shown already, and
    // a failure is the queue's to handle, not the caller's.
    this.flush().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) {
        return;
      }
      const w = this.store.writes()[0];
      if (!w) {
        this.failures = 0;
        return;
      }
      let outcome: Outcome;
      try {
        outcome = { record: await this.send(w) };
      } catch (err) {
        outcome = await this.judge(w, err);
      }
      if ('retry' in outcome) {
        this.schedule();
        return;
      }
      this.failures = 0;
      if ('refusal' in outcome) {
        await this.store.refuse(w, outcome.refusal);
        const r = this.store.refusals().find((x) => x.seq === w.seq);
        if (r) {
          this.options.onRefused?.(r);
        }
      } else {
        await this.store.sent(w, outcome.record);
      }
    }
  }

  private async send(w: QueuedWrite): Promise<RecordModel | null> {
    const records = this.pb.collection(w.collection);
    const opts = { requestKey: null };
    switch (w.op) {
      case 'create':
        return records.create(withFiles(w), opts);
      case 'update':
        return records.update(w.id, withFiles(w), opts);
      case 'delete':
        await records.delete(w.id, opts);
        return null;
    }
  }

  // judge decides what an error of sending w means: done after all (a
  // create or delete whose first attempt the server applied), try again
  // later, or refused.
  private async judge(w: QueuedWrite, err: unknown): Promise<Outcome> {
    const e = err as { status?: number; isAbort?: boolean; response?: { message?: string; data?: Record<string, unknown> } };
    const status = typeof e?.status === 'number' ? e.status : 0;
    // 0 is the SDK's word for "no answer": the network, not the request,
    // failed; the server may or may not have applied it.
    // 401: the session ended (or must be refreshed); the writes wait for
    // a signed-in session rather than being refused for it.
    if (status === 0 || status === 401) {
      return { retry: true };
    }
    if (status >= 500 || status === 429) {
      if (w.attempts + 1 < MAX_ATTEMPTS) {
        await this.store.attempted(w);
        return { retry: true };
      }
    } else if (w.op === 'delete' && status === 404) {
      return { record: null };
    } else if (w.op === 'create' && status === 400 && idTaken(e.response?.data)) {
      const mine = await this.appliedCreate(w);
      if (mine === 'unknown') {
        return { retry: true };
      }
      if (mine) {
        return { record: mine };
      }
    }
    return {
      refusal: {
        status,
        message: e?.response?.message || String((err as Error)?.message ?? err),
        errors: e?.response?.data ?? {},
      },
    };
  }

  // appliedCreate reads the record a create's id names: when it holds
  // what w sent, it is w applied by an earlier attempt whose answer was
  // lost; anything else (another record with that id, none visible) is a
  // refusal.
  private async appliedCreate(w: QueuedWrite): Promise<RecordModel | null | 'unknown'> {
    let record: RecordModel;
    try {
      record = await this.pb.collection(w.collection).getOne(w.id, { requestKey: null });
    } catch (err) {
      return (err as { status?: number })?.status === 0 ? 'unknown' : null;
    }
    const same = Object.entries(w.data).every(([k, v]) => k === 'id' || String(record[k]) === String(v));
    return same ? record : null;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== null) {
      return;
    }
    const retry = this.options.retryMs ?? RETRY_MS;
    const wait = retry[Math.min(this.failures++, retry.length - 1)];
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch(() => undefined);
    }, wait);
  }

  private unschedule(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

type Outcome = { record: RecordModel | null } | { retry: true } | { refusal: Pick<RefusedWrite, 'status' | 'message' | 'errors'> };

// idTaken: PocketBase's answer to a create whose id exists already
// (validation_not_unique from the records API's unique check,
// validation_pk_invalid from the id field's own).
function idTaken(data: Record<string, unknown> | undefined): boolean {
  const code = (data?.id as { code?: unknown } | undefined)?.code;
  return code === 'validation_not_unique' || code === 'validation_pk_invalid';
}

// keepFiles turns the app's files into what the queue stores: a React
// Native file stays a URI, a Blob's bytes are read now (base64), because
// a Blob does not outlive the page or the process.
async function keepFiles(files: Record<string, AttachedFile[]>): Promise<QueuedFile[]> {
  const kept: QueuedFile[] = [];
  for (const [field, list] of Object.entries(files)) {
    for (const f of list) {
      if ('uri' in f) {
        kept.push({ field, name: f.name, type: f.type ?? 'application/octet-stream', uri: f.uri });
      } else {
        kept.push({ field, name: f.name ?? 'file', type: f.type, base64: toBase64(new Uint8Array(await f.arrayBuffer())) });
      }
    }
  }
  return kept;
}

// withFiles is the body of w's request: its fields, and its files as the
// SDK uploads them (multipart): a React Native file object, or a Blob.
function withFiles(w: QueuedWrite): Record<string, unknown> {
  const body: Record<string, unknown> = { ...w.data };
  for (const f of w.files) {
    const field = w.op === 'update' && !f.field.endsWith('+') ? `${f.field}+` : f.field;
    const file = f.uri !== undefined ? { uri: f.uri, name: f.name, type: f.type } : blob(f);
    body[field] = [...((body[field] as unknown[] | undefined) ?? []), file];
  }
  return body;
}

// blob makes a kept file a File again, under its own name: PocketBase
// keeps the original name (sanitized) in the stored one.
function blob(f: QueuedFile): unknown {
  const File = globalThis.File;
  if (!File) {
    throw new Error('hearth: sending a queued file needs File');
  }
  return new File([fromBase64(f.base64 ?? '')], f.name, { type: f.type });
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return globalThis.btoa!(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = globalThis.atob!(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    bytes[i] = s.charCodeAt(i);
  }
  return bytes;
}
