// The app's one connection to Hearth, through @crews/hearth-client only:
// the typed client with its session in secure storage, realtime through
// react-native-sse, and the package's React bindings (HearthSession,
// HearthProvider, useSession, useLiveQuery), which keep the session fresh
// (refreshed at start and on resume, realtime restarted) and LiveSync's
// durable store (SQLite on a phone, store.ts), which every screen reads. Push: registered after
// sign-in, unregistered at sign-out.
import AsyncStorage from '@react-native-async-storage/async-storage';
import NetInfo from '@react-native-community/netinfo';
import { createClient, fieldErrors, type Connection, type LiveSync, type RefusedWrite, type TypedPocketBase, type UsersRecord } from '@crews/hearth-client';
import {
  HearthProvider as SessionProvider,
  HearthSession,
  useHearthSession,
  useSession as useSessionSnapshot,
} from '@crews/hearth-client/react';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { AppState } from 'react-native';
import EventSource from 'react-native-sse';
import { serverUrl } from './config';
import { registerForPush } from './push';
import { sessionStorage } from './sessionStorage';
import { openStore } from './store';

interface Hearth {
  pb: TypedPocketBase;
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

// NetInfo checks that the internet is reachable by fetching a Google URL
// unless told otherwise; what matters here is whether Hearth is, so it asks
// Hearth's health endpoint, and nothing else.
NetInfo.configure({
  reachabilityUrl: `${serverUrl()}/api/health`,
  reachabilityTest: async (response) => response.status === 200,
  useNativeReachability: false,
});

/** Creates the client and its session (restored from storage); renders children once both are ready. */
export function HearthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<HearthSession | null>(null);
  useEffect(() => {
    let alive = true;
    (async () => {
      const pb = await createClient(serverUrl(), { storage: sessionStorage, EventSource });
      const s = new HearthSession(pb, { storage: AsyncStorage, appState: AppState, openStore });
      await s.start();
      if (alive) {
        setSession(s);
      }
    })();
    return () => {
      alive = false;
    };
  }, []);
  if (!session) {
    return null;
  }
  return (
    <SessionProvider session={session}>
      <Device>{children}</Device>
    </SessionProvider>
  );
}

// The push token of this phone for the signed-in user, for signOut.
let deviceToken: string | null = null;

/** What the phone adds to the session: the network state and the push token. */
function Device({ children }: { children: ReactNode }) {
  const { pb, user, live } = useSessionSnapshot();
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
  // Register for pushes once per signed-in user; a failure (offline, no
  // permission) is tried again at the next start.
  const registered = useRef<string | null>(null);
  useEffect(() => {
    if (!user) {
      registered.current = null;
      return;
    }
    if (registered.current === user.id) {
      return;
    }
    registered.current = user.id;
    registerForPush(pb).then(
      (token) => {
        deviceToken = token;
      },
      () => undefined,
    );
  }, [pb, user]);
  return <>{children}</>;
}

export function useHearth(): Hearth {
  const session = useHearthSession();
  const { pb, user, live, connection } = useSessionSnapshot();
  return {
    pb,
    user,
    live,
    connection,
    adopt: session.adopt,
    signIn: (email, password) => session.signIn(email, password),
    signUp: (name, email, password) => session.signUp({ name, email, password, passwordConfirm: password }),
    async signOut() {
      await session.signOut({ deviceToken });
      deviceToken = null;
    },
  };
}

/** The signed-in parts: for screens shown only after sign-in. */
export function useSession(): { pb: TypedPocketBase; user: UsersRecord; live: LiveSync; connection: Connection } {
  const { pb, user, live, connection } = useSessionSnapshot();
  if (!user || !live) {
    throw new Error('useSession before sign-in');
  }
  return { pb, user, live, connection };
}

/**
 * The message of an SDK error, for people: what the server said about each
 * refused field (fieldErrors) before the request's own message ("Failed to
 * create record.").
 */
export function errorText(err: unknown): string {
  const e = err as { status?: number; response?: { message?: string }; message?: string };
  if (e?.status === 0) {
    return 'Cannot reach the server. Check your connection.';
  }
  const fields = Object.entries(fieldErrors(err));
  if (fields.length) {
    return fields.map(([field, message]) => `${field}: ${message}`).join(' ');
  }
  return e?.response?.message || e?.message || String(err);
}

/**
 * What the server said when it refused a queued write (store.refusals()),
 * for people: as errorText, from the refusal kept by the queue.
 */
export function refusalText(r: RefusedWrite): string {
  return errorText({ status: r.status, response: { message: r.message, data: r.errors } });
}
