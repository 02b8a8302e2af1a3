// Signing out: nothing of the user may stay on the device.
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
