// The typed client factory: a pocketbase SDK client for a Hearth server
// whose session survives restarts in the app's storage.
import PocketBase, { AsyncAuthStore } from 'pocketbase';
import { installEventSource, type EventSourceClass } from './realtime.js';
import type { KeyValueStorage } from './storage.js';
import type { TypedPocketBase, UsersCreate, UsersRecord } from './types.gen.js';

/** The storage key of the session (token and user record). */
export const AUTH_KEY = 'hearth.auth';

export interface ClientOptions {
  /** Where the session is kept: AsyncStorage on a phone, MemoryStorage in tests. */
  storage: KeyValueStorage;
  /**
   * An EventSource class for realtime, installed as the global one:
   * react-native-sse's in React Native. Leave it out where the runtime has
   * one (browsers) or one is installed already.
   */
  EventSource?: EventSourceClass;
}

/**
 * createClient returns a typed SDK client for the Hearth server at url,
 * signed in as whoever was signed in when the app last ran.
 *
 *   import AsyncStorage from '@react-native-async-storage/async-storage';
 *   import EventSource from 'react-native-sse';
 *   const pb = await createClient('https://crews.example.com', { storage: AsyncStorage, EventSource });
 *   pb.authStore.isValid;    // restored session
 *   await pb.collection('events').getList(1, 20);   // ListResult<EventsRecord>
 */
export async function createClient(url: string, options: ClientOptions): Promise<TypedPocketBase> {
  if (options.EventSource) {
    installEventSource(options.EventSource);
  }
  const { storage } = options;
  const saved = await storage.getItem(AUTH_KEY);
  const authStore = new AsyncAuthStore({
    save: (serialized) => storage.setItem(AUTH_KEY, serialized),
    clear: () => storage.removeItem(AUTH_KEY),
    initial: saved ?? undefined,
  });
  const pb = new PocketBase(url, authStore) as TypedPocketBase;
  // The SDK cancels a request when another one to the same path starts
  // before it ends; screens that render twice, or two lists of one
  // collection, would see their first request fail. Hearth's clients send
  // each request on purpose.
  pb.autoCancellation(false);
  return pb;
}

/** The signed-in app user, or null. */
export function currentUser(pb: PocketBase): UsersRecord | null {
  const record = pb.authStore.record;
  return record && record.collectionName === 'users' ? (record as unknown as UsersRecord) : null;
}

/** signUp creates a users account and signs in as it. */
export async function signUp(pb: TypedPocketBase, account: UsersCreate): Promise<UsersRecord> {
  await pb.collection('users').create(account);
  const auth = await pb.collection('users').authWithPassword(account.email, account.password);
  return auth.record;
}

/** signIn signs in with email and password. */
export async function signIn(pb: TypedPocketBase, email: string, password: string): Promise<UsersRecord> {
  const auth = await pb.collection('users').authWithPassword(email, password);
  return auth.record;
}
