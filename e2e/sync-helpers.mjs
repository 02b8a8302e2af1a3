// Helpers of the sync e2e files: a store that records what it is told
// (and can fail every nth page, as a phone killed before storing it), and
// the comparison of a store with the list API.
import assert from 'node:assert/strict';
import { MemoryStore, SYNCED_COLLECTIONS } from '../clients/js/dist/sync.js';

/**
 * RecordingStore is a MemoryStore that counts each record's deliveries
 * and the largest page. With crashEvery = n, every nth page fails before
 * anything is stored; the next page applied must be the lost one again
 * (a sync resumed from the stored cursor reads the same page).
 */
export class RecordingStore extends MemoryStore {
  constructor(crashEvery = 0) {
    super();
    this.crashEvery = crashEvery;
    this.pages = 0;
    this.crashes = 0;
    this.largestPage = 0;
    this.delivered = new Map();
    this.seen = [];
    this.lost = null;
    this.lostPagesDiffer = 0;
  }

  async applyPage(changes, cursor) {
    this.pages++;
    const ids = JSON.stringify(changes.map((c) => [c.op, c.collection, c.id]));
    if (this.crashEvery && this.pages % this.crashEvery === 0) {
      this.crashes++;
      this.lost = ids;
      throw new Error('crash before storing the page');
    }
    if (this.lost !== null && this.lost !== ids) this.lostPagesDiffer++;
    this.lost = null;
    this.largestPage = Math.max(this.largestPage, changes.length);
    for (const c of changes) {
      const key = `${c.collection}/${c.id}`;
      this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
      this.seen.push(c);
    }
    return super.applyPage(changes, cursor);
  }

  /** Forgets what was delivered so far (not the records). */
  resetCounts() {
    this.delivered.clear();
    this.seen = [];
    this.largestPage = 0;
  }
}

/** syncThroughCrashes runs client.sync() until it completes, resuming after each crash of the store. */
export async function syncThroughCrashes(client) {
  for (;;) {
    try {
      return await client.sync();
    } catch (err) {
      if (err?.message !== 'crash before storing the page') throw err;
    }
  }
}

/** assertMatchesListAPI compares the store with the list API, collection by collection. */
export async function assertMatchesListAPI(pb, store) {
  for (const name of SYNCED_COLLECTIONS) {
    const listed = await pb.collection(name).getFullList({ batch: 500, requestKey: null });
    const byId = (records) => Object.fromEntries([...records].sort((x, y) => x.id.localeCompare(y.id)).map((r) => [r.id, r]));
    assert.deepEqual(byId(store.list(name)), byId(listed), `${name}: local store differs from the list API`);
  }
}
