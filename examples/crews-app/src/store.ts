// The local store on a phone: SQLite (expo-sqlite), one database per
// user, which holds any number of records (AsyncStorage cannot read an
// item over about 2 MB on Android). The web build uses it too, through
// expo-sqlite's web worker on the browser's OPFS (web/build.mjs).
import { SqliteStore, type DurableStore } from '@crews/hearth-client';
import * as Crypto from 'expo-crypto';
import * as SQLite from 'expo-sqlite';

// The write queue makes record ids with crypto.getRandomValues, which
// Hermes lacks: expo-crypto's takes its place.
const g = globalThis as { crypto?: { getRandomValues?: unknown } };
if (typeof g.crypto?.getRandomValues !== 'function') {
  g.crypto = { ...(g.crypto ?? {}), getRandomValues: Crypto.getRandomValues };
}

/** Opens the signed-in user's store. */
export async function openStore(userId: string): Promise<DurableStore | undefined> {
  const db = await SQLite.openDatabaseAsync(`hearth-${userId}.db`);
  return SqliteStore.open(db);
}
