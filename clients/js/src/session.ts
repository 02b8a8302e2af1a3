// The session's life on a phone: kept fresh while the person uses the app,
// ended cleanly when the server refuses it, and nothing of the user left on
// the device after signing out.
import type PocketBase from 'pocketbase';
import { unregisterDevice } from './devices.js';
import type { LiveSync } from './live.js';

export interface SignOutOptions {
  /** The user's sync, whose local store is removed from the device. */
  live?: LiveSync | null;
  /** This phone's push token, unregistered so it gets no more pushes for the user. */
  deviceToken?: string | null;
}

/**
 * signOut unregisters the push token, stops sync and removes the synced
 * store from storage, ends realtime and clears the session. The device
 * registration needs the server: when it cannot be reached, the rest still
 * happens, and the error is returned (not thrown) so the app can tell the
 * person that pushes may still arrive until the token is registered again.
 */
export async function signOut(pb: PocketBase, options: SignOutOptions = {}): Promise<{ deviceError?: unknown }> {
  let deviceError: unknown;
  if (options.deviceToken) {
    try {
      await unregisterDevice(pb, options.deviceToken);
    } catch (err) {
      deviceError = err;
    }
  }
  await options.live?.destroy();
  await pb.realtime.unsubscribe().catch(() => undefined);
  pb.authStore.clear();
  return deviceError === undefined ? {} : { deviceError };
}

/**
 * What refreshSession found: 'refreshed' (a new token is stored),
 * 'signed-out' (the server refused the session, or there was none),
 * 'unreachable' (no answer, or a server error: the session is kept and
 * tried again on the next start or resume).
 */
export type SessionState = 'refreshed' | 'signed-out' | 'unreachable';

/**
 * refreshSession trades the session's token for a new one (the SDK's
 * authRefresh), so that a person who opens the app within the token's
 * lifetime (Hearth's users: the users collection's auth token duration)
 * never sees it end. Only a refusal ends the session: a 401 or 403 means the
 * token is no longer good (it expired, the password changed elsewhere, the
 * account is gone), and the app signs out as signOut does, with options'
 * store and push token. A network error or a server error keeps the
 * session: the person is offline, not signed out.
 */
export async function refreshSession(pb: PocketBase, options: SignOutOptions = {}): Promise<SessionState> {
  const user = pb.authStore.record;
  if (!pb.authStore.token || !user) {
    return 'signed-out';
  }
  try {
    await pb.collection(user.collectionName).authRefresh();
    return 'refreshed';
  } catch (err) {
    const status = (err as { status?: unknown })?.status;
    if (status !== 401 && status !== 403) {
      return 'unreachable';
    }
    // The token is refused, so the device cannot be unregistered with it;
    // the server drops a token that another sign-in registers again.
    await signOut(pb, { live: options.live });
    return 'signed-out';
  }
}

/** What keepSession needs of React Native's AppState. */
export interface AppStateLike {
  addEventListener(type: 'change', listener: (state: string) => void): { remove(): void };
}

export interface KeepSessionOptions extends SignOutOptions {
  /** React Native's AppState. */
  appState: AppStateLike;
  /** Told what each start or resume found: 'signed-out' is the app's cue to show the sign-in screen. */
  onSession?: (state: SessionState) => void;
}

/**
 * keepSession refreshes the session now and each time the app comes back to
 * the foreground (AppState 'active'), and ends realtime when the app goes
 * to the background: a phone that sleeps drops or freezes the stream
 * without an error, so on resume LiveSync starts again, which opens a new
 * stream and syncs what was missed. Call it once signed in, instead of
 * live.start() (it starts LiveSync); remove() ends it (before signing out).
 *
 *   import { AppState } from 'react-native';
 *   const kept = keepSession(pb, { appState: AppState, live, onSession: (s) => s === 'signed-out' && showSignIn() });
 *   ...
 *   kept.remove();
 */
export function keepSession(pb: PocketBase, options: KeepSessionOptions): { remove(): void; resume(): Promise<SessionState> } {
  const { appState, live, onSession } = options;
  let active = true;
  // One resume at a time: AppState may say 'active' while the first one
  // (at start) still runs.
  let running: Promise<SessionState> | null = null;
  const resume = (): Promise<SessionState> => {
    running ??= refreshAndRestart().finally(() => {
      running = null;
    });
    return running;
  };
  const refreshAndRestart = async (): Promise<SessionState> => {
    const state = await refreshSession(pb, options);
    if (state !== 'signed-out' && active) {
      // Starts LiveSync unless it runs (a resume from 'inactive', or
      // NetInfo started it first): stopping a start in flight would cancel
      // its subscriptions mid-request. It starts even when the refresh
      // found no server: LiveSync keeps trying and shows 'offline'
      // meanwhile. Once it has started, the store holds what changed while
      // the app slept.
      await live?.setOnline(true);
    }
    if (active) {
      onSession?.(state);
    }
    return state;
  };
  const subscription = appState.addEventListener('change', (state) => {
    if (state === 'active') {
      resume().catch(() => undefined);
    } else if (state === 'background') {
      live?.stop().catch(() => undefined);
    }
  });
  resume().catch(() => undefined);
  return {
    remove() {
      active = false;
      subscription.remove();
    },
    resume,
  };
}
