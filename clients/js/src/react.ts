// React bindings (@crews/hearth-client/react): the session as a store that
// components read with useSyncExternalStore, a provider, useSession, and
// useLiveQuery over the synced local store, so that a screen re-renders
// when the records it shows change, and only then.
//
//   const hearth = new HearthSession(pb, { storage: AsyncStorage, appState: AppState });
//   hearth.start();
//   <HearthProvider session={hearth}><App /></HearthProvider>
//
//   const { user, connection } = useSession();
//   const messages = useLiveQuery('messages', (all) => all.filter((m) => m.group === id));
import { createContext, createElement, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { currentUser, signIn, signUp } from './client.js';
import { LiveSync, type Connection } from './live.js';
import { storeKey, type DurableStore } from './store.js';
import { keepSession, signOut, type AppStateLike, type SessionState } from './session.js';
import type { KeyValueStorage } from './storage.js';
import type { CollectionName, CollectionRecords, TypedPocketBase, UsersCreate, UsersRecord } from './types.gen.js';

/** What components see of the session; a new object whenever any part changes. */
export interface SessionSnapshot {
  pb: TypedPocketBase;
  /** The signed-in user, or null. */
  user: UsersRecord | null;
  /** The signed-in user's sync and local store, or null. */
  live: LiveSync | null;
  connection: Connection;
}

export interface HearthSessionOptions {
  /** Where the synced store is kept: AsyncStorage (the session's storage is createClient's). */
  storage: KeyValueStorage;
  /** React Native's AppState: refresh the session and restart realtime on resume (keepSession). */
  appState?: AppStateLike;
  /** Told of every start's and resume's refresh. */
  onSession?: (state: SessionState) => void;
  /**
   * Opens the signed-in user's durable store (a SqliteStore on a phone);
   * undefined or absent: LiveSync's PersistentStore in `storage`.
   */
  openStore?: (userId: string) => Promise<DurableStore | undefined>;
}

/**
 * HearthSession is the app's session as an external store: the client, the
 * signed-in user, their LiveSync and its connection. Signing in opens the
 * user's store and keeps the session (keepSession with appState, else
 * LiveSync alone); a refused refresh or signOut() ends it and clears the
 * device.
 */
export class HearthSession {
  private snap: SessionSnapshot;
  private listeners = new Set<() => void>();
  private kept: { remove(): void } | null = null;

  constructor(
    readonly pb: TypedPocketBase,
    private readonly options: HearthSessionOptions,
  ) {
    this.snap = { pb, user: null, live: null, connection: 'connecting' };
  }

  /** For useSyncExternalStore. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** For useSyncExternalStore. */
  readonly getSnapshot = (): SessionSnapshot => this.snap;

  /** Resumes the session kept in storage, if any. */
  async start(): Promise<void> {
    if (this.pb.authStore.isValid && currentUser(this.pb)) {
      await this.begin();
    }
  }

  /**
   * Starts the session of a sign-in made outside signIn and signUp (OAuth2:
   * signInWithOAuth2, finishOAuth2Redirect). One function per session, so
   * it can sit in a React effect's dependencies.
   */
  readonly adopt = (): Promise<void> => this.start();

  async signIn(email: string, password: string): Promise<void> {
    await signIn(this.pb, email, password);
    await this.begin();
  }

  async signUp(account: UsersCreate): Promise<void> {
    await signUp(this.pb, account);
    await this.begin();
  }

  /** signOut as the package's signOut does (the push token unregistered), then shows no user. */
  async signOut(options: { deviceToken?: string | null } = {}): Promise<{ deviceError?: unknown }> {
    this.kept?.remove();
    this.kept = null;
    const result = await signOut(this.pb, { live: this.snap.live, deviceToken: options.deviceToken });
    this.set({ user: null, live: null, connection: 'connecting' });
    return result;
  }

  private async begin(): Promise<void> {
    this.kept?.remove();
    await this.snap.live?.stop();
    const live = await this.openLive();
    live.onConnection = (connection) => this.set({ connection });
    this.set({ user: currentUser(this.pb), live });
    const { appState, onSession } = this.options;
    if (appState) {
      this.kept = keepSession(this.pb, {
        appState,
        live,
        onSession: (state) => {
          if (state === 'signed-out') {
            this.kept?.remove();
            this.kept = null;
            this.set({ user: null, live: null, connection: 'connecting' });
          } else {
            // The refresh brought the user's record as the server has it now.
            this.set({ user: currentUser(this.pb) });
          }
          onSession?.(state);
        },
      });
    } else {
      // Offline, the first sync fails and LiveSync keeps trying; the store
      // already holds what the last session synced.
      live.start().catch(() => undefined);
    }
  }

  // A store that cannot be read must not stop the app at start: it is
  // dropped and synced again from the server (writes still queued in it
  // are lost, which is why this is the last resort). SqliteStore.open
  // throws only when its queue cannot be read: unreadable records alone
  // are dropped there and the queue kept. A PersistentStore is one item,
  // records and queue together: when it is not JSON, neither can be read.
  private async openLive(): Promise<LiveSync> {
    const id = this.pb.authStore.record?.id ?? '';
    try {
      return await LiveSync.open(this.pb, this.options.storage, { store: await this.options.openStore?.(id) });
    } catch {
      await this.options.storage.removeItem(storeKey(id));
      return LiveSync.open(this.pb, this.options.storage);
    }
  }

  private set(change: Partial<SessionSnapshot>): void {
    this.snap = { ...this.snap, ...change };
    for (const l of this.listeners) {
      l();
    }
  }
}

const SessionContext = createContext<HearthSession | null>(null);

/** Gives the components below it the session. */
export function HearthProvider({ session, children }: { session: HearthSession; children?: ReactNode }) {
  return createElement(SessionContext.Provider, { value: session }, children);
}

/** The HearthSession of the nearest HearthProvider, for signIn, signUp and signOut. */
export function useHearthSession(): HearthSession {
  const session = useContext(SessionContext);
  if (!session) {
    throw new Error('hearth: useSession outside HearthProvider');
  }
  return session;
}

/** The session's current snapshot; re-renders the caller when it changes. */
export function useSession(): SessionSnapshot {
  const session = useHearthSession();
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot);
}

// Each store's change count: a snapshot that stays equal between changes,
// as useSyncExternalStore needs (list() builds a new array on every call).
// The counter listens from the first read on, so a change between a render
// and its subscription is still seen.
const versions = new WeakMap<DurableStore, { n: number }>();

function version(store: DurableStore): { n: number } {
  let v = versions.get(store);
  if (!v) {
    const counter = { n: 0 };
    store.subscribe(() => {
      counter.n++;
    });
    versions.set(store, counter);
    v = counter;
  }
  return v;
}

const noStore = () => () => undefined;

/**
 * useLiveQuery returns select(records) for the records of collection in the
 * signed-in user's local store, and re-renders the caller when the store
 * changes. select runs again only after a change, or when deps change (as
 * useMemo's). Signed out, select sees no records.
 *
 *   const events = useLiveQuery('events', (all) => all.filter((e) => e.group === id), [id]);
 */
export function useLiveQuery<N extends CollectionName, T = CollectionRecords[N][]>(
  collection: N,
  select?: (records: CollectionRecords[N][]) => T,
  deps: readonly unknown[] = [],
): T {
  const store = useSession().live?.store ?? null;
  // A subscribe function that changes would resubscribe on every render.
  const subscribe = useMemo(() => (store ? (l: () => void) => store.subscribe(l) : noStore), [store]);
  const read = () => (store ? version(store).n : -1);
  const n = useSyncExternalStore(subscribe, read, read);
  return useMemo(() => {
    const records = (store ? store.list(collection) : []) as unknown as CollectionRecords[N][];
    return select ? select(records) : (records as unknown as T);
    // select is left out on purpose: callers pass an inline function, and
    // what it depends on is in deps.
  }, [store, n, collection, ...deps]);
}
