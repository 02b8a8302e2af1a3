// The app's one connection to Hearth, through @crews/hearth-client only:
// the typed client with its session in AsyncStorage, realtime through
// react-native-sse, and LiveSync's persistent store, which every screen
// reads.
import AsyncStorage from '@react-native-async-storage/async-storage';
import NetInfo from '@react-native-community/netinfo';
import {
  LiveSync,
  createClient,
  currentUser,
  signIn as passwordSignIn,
  signOut as endSession,
  signUp as createAccount,
  type Connection,
  type TypedPocketBase,
  type UsersRecord,
} from '@crews/hearth-client';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import EventSource from 'react-native-sse';
import { serverUrl } from './config';

interface Hearth {
  /** The client, once created (its session restored from storage). */
  pb: TypedPocketBase | null;
  user: UsersRecord | null;
  /** The signed-in user's sync and local store. */
  live: LiveSync | null;
  connection: Connection;
  signIn(email: string, password: string): Promise<void>;
  signUp(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** adopt starts the session a sign-in outside signIn made (OAuth2: OAuth2Buttons). */
  adopt(): Promise<void>;
}

const HearthContext = createContext<Hearth | null>(null);

// NetInfo checks that the internet is reachable by fetching a Google URL
// unless told otherwise; what matters here is whether Hearth is, so it asks
// Hearth's health endpoint, and nothing else.
NetInfo.configure({
  reachabilityUrl: `${serverUrl()}/api/health`,
  reachabilityTest: async (response) => response.status === 200,
  useNativeReachability: false,
});

export function HearthProvider({ children }: { children: ReactNode }) {
  const [pb, setPb] = useState<TypedPocketBase | null>(null);
  const [live, setLive] = useState<LiveSync | null>(null);
  const [user, setUser] = useState<UsersRecord | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');

  const begin = useCallback(async (client: TypedPocketBase) => {
    const sync = await LiveSync.open(client, AsyncStorage);
    sync.onConnection = setConnection;
    setLive(sync);
    setUser(currentUser(client));
    // Offline, the first sync fails and LiveSync keeps trying; the store
    // already holds what the last session synced.
    sync.start().catch(() => undefined);
  }, []);

  useEffect(() => {
    let alive = true;
    createClient(serverUrl(), { storage: AsyncStorage, EventSource }).then(async (client) => {
      if (!alive) {
        return;
      }
      setPb(client);
      if (client.authStore.isValid && currentUser(client)) {
        await begin(client);
      }
    });
    return () => {
      alive = false;
    };
  }, [begin]);

  // The device's network, as NetInfo sees it, drives the sync: realtime
  // ends when the network goes, and a sync catches up when it returns.
  useEffect(() => {
    if (!live) {
      return;
    }
    return NetInfo.addEventListener((state) => {
      live.setOnline(state.isConnected !== false && state.isInternetReachable !== false);
    });
  }, [live]);

  const adopt = useCallback(async () => {
    if (pb) await begin(pb);
  }, [pb, begin]);

  const value: Hearth = {
    adopt,
    pb,
    user,
    live,
    connection,
    async signIn(email, password) {
      if (!pb) return;
      await passwordSignIn(pb, email, password);
      await begin(pb);
    },
    async signUp(name, email, password) {
      if (!pb) return;
      await createAccount(pb, { name, email, password, passwordConfirm: password });
      await begin(pb);
    },
    async signOut() {
      if (!pb) return;
      await endSession(pb, { live });
      setLive(null);
      setUser(null);
      setConnection('connecting');
    },
  };
  return <HearthContext.Provider value={value}>{children}</HearthContext.Provider>;
}

export function useHearth(): Hearth {
  const h = useContext(HearthContext);
  if (!h) {
    throw new Error('useHearth outside HearthProvider');
  }
  return h;
}

/** The signed-in parts: for screens shown only after sign-in. */
export function useSession(): { pb: TypedPocketBase; user: UsersRecord; live: LiveSync; connection: Connection } {
  const { pb, user, live, connection } = useHearth();
  if (!pb || !user || !live) {
    throw new Error('useSession before sign-in');
  }
  return { pb, user, live, connection };
}

/** Re-renders the caller whenever the local store changes. */
export function useStoreChanges(live: LiveSync): void {
  const [, setTick] = useState(0);
  useEffect(() => live.store.subscribe(() => setTick((t) => t + 1)), [live]);
}

/** The message of an SDK error, for people. */
export function errorText(err: unknown): string {
  const e = err as { status?: number; response?: { message?: string }; message?: string };
  if (e?.status === 0) {
    return 'Cannot reach the server. Check your connection.';
  }
  return e?.response?.message || e?.message || String(err);
}
