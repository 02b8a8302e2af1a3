// Push devices: the Expo push token of each phone a user is signed in on,
// kept in the `devices` collection so the server can notify them.
import type PocketBase from 'pocketbase';
import type { RecordModel } from 'pocketbase';

/** The platforms Expo push serves. */
export type DevicePlatform = 'ios' | 'android';

/** A record of `devices`: one phone of the signed-in user. */
export interface Device extends RecordModel {
  /** The owner; the server fills it with the caller. */
  user: string;
  /** An Expo push token: ExponentPushToken[...]. */
  token: string;
  platform: DevicePlatform;
  last_seen: string;
}

/**
 * registerDevice tells the server that this phone, signed in as the
 * caller, receives pushes at token (from expo-notifications'
 * getExpoPushTokenAsync). Call it after every sign-in and app start: a
 * token that another user held (the phone changed hands) moves to the
 * caller, and registering a token the caller holds already keeps one
 * record.
 */
export async function registerDevice(pb: PocketBase, token: string, platform: DevicePlatform): Promise<Device> {
  try {
    return await pb.collection('devices').create<Device>({ token, platform });
  } catch (err) {
    // A server that keeps tokens unique refuses the second registration
    // of a token the caller holds: touch that record instead.
    const code = (err as { response?: { data?: { token?: { code?: string } } } }).response?.data?.token?.code;
    const held = code === 'validation_not_unique' ? await findDevice(pb, token) : undefined;
    if (!held) {
      throw err;
    }
    return pb.collection('devices').update<Device>(held.id, { platform });
  }
}

/**
 * unregisterDevice stops pushes to token for the caller (on sign-out);
 * false when the caller had no such device.
 */
export async function unregisterDevice(pb: PocketBase, token: string): Promise<boolean> {
  const held = await findDevice(pb, token);
  if (!held) {
    return false;
  }
  await pb.collection('devices').delete(held.id);
  return true;
}

/** The caller's devices record for token, if any. */
async function findDevice(pb: PocketBase, token: string): Promise<Device | undefined> {
  // The caller's own devices are few; listing them all avoids depending on
  // which fields the server lets clients filter by.
  const mine = await pb.collection('devices').getFullList<Device>();
  return mine.find((d) => d.token === token);
}
