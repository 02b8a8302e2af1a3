// @crews/hearth-client: the typed client for Hearth, the Crews backend.
// README.md shows how the pieces fit in a React Native app.
export * from './types.gen.js';
export { AUTH_KEY, createClient, currentUser, signIn, signUp, type ClientOptions } from './client.js';
export { MemoryStorage, type KeyValueStorage } from './storage.js';
export { secureStorage, type SecureStoreLike } from './storage.js';
export { installEventSource, type EventSourceClass } from './realtime.js';
export {
  MemoryStore,
  SyncClient,
  SYNCED_COLLECTIONS,
  type Change,
  type LocalStore,
  type SyncOptions,
  type SyncPage,
  type SyncResult,
} from './sync.js';
export { PersistentStore, storeKey, type DurableStore } from './store.js';
export {
  OfflineStore,
  PENDING_FIELD,
  isPending,
  type QueueStore,
  type QueuedFile,
  type QueuedWrite,
  type RefusedWrite,
  type Tx,
} from './offline.js';
export { MAX_ATTEMPTS, WriteQueue, newRecordId, type AttachedFile, type WriteQueueOptions } from './queue.js';
export { LiveSync, type Connection, type LiveSyncOptions } from './live.js';
export { SQLITE_SCHEMA, SqliteStore, type SqlValue, type SqliteDatabase } from './sqlitestore.js';
export { cancelRsvp, createInvite, findRsvp, joinByCode, rsvp, type Joined, type RsvpRequest } from './crews.js';
export { registerDevice, unregisterDevice, type Device, type DevicePlatform } from './devices.js';
export { signOut, type SignOutOptions } from './session.js';
export { keepSession, refreshSession, type AppStateLike, type KeepSessionOptions, type SessionState } from './session.js';
export { fieldErrors } from './errors.js';
export {
  finishOAuth2Redirect,
  oauth2Providers,
  signInWithOAuth2,
  startOAuth2Redirect,
  type AuthSessionResult,
  type OAuth2Options,
  type OpenAuthSession,
} from './oauth2.js';
