// Push devices: the Expo push token of each phone a user is signed in on,
// kept in the `devices` collection so the server can notify them.
import type PocketBase from 'pocketbase';
import type { DevicesCreate, DevicesRecord } from './types.gen.js';

/** The platforms Expo push serves. */
export type DevicePlatform = DevicesCreate['platform'];

/** A record of `devices`: one phone of the signed-in user (the generated type). */
export type Device = DevicesRecord;

/**
 * registerDevice tells the server that this phone, signed in as the
 * caller, receives pushes at token (from expo-notifications'
 * getExpoPushTokenAsync). Call it after every sign-in and app start: the
 * server releases the token from whoever held it first (the caller on an
 * earlier start, or another user when the phone changed hands), so a
 * registration always creates the one record of the token.
 */
export async function registerDevice(pb: PocketBase, token: string, platform: DevicePlatform): Promise<Device> {
  const body: DevicesCreate = { token, platform };
  return pb.collection('devices').create<Device>(body);
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
