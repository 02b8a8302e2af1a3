// The web build's local store: LiveSync's default, a PersistentStore in
// AsyncStorage (localStorage). expo-sqlite's web support needs Metro's
// wasm handling and a cross-origin isolated page, which this esbuild
// build and its plain file server do not have (docs/sync.md).
import type { DurableStore } from '@crews/hearth-client';

/** undefined: LiveSync opens its default store. */
export async function openStore(_userId: string): Promise<DurableStore | undefined> {
  return undefined;
}
