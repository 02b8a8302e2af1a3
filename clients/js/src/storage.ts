// Where the client keeps what must outlive the app process: the session
// (auth token and user) and the synced local store.

/**
 * A key-value storage with AsyncStorage's shape, so that
 * `@react-native-async-storage/async-storage` is one as it is (and it keeps
 * to localStorage on the web). Values are strings; a missing key reads as
 * null.
 */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** A KeyValueStorage in memory: for tests and for apps that keep nothing. */
export class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();

  async getItem(key: string): Promise<string | null> {
    return this.items.get(key) ?? null;
  }

  async setItem(key: string, value: string): Promise<void> {
    this.items.set(key, String(value));
  }

  async removeItem(key: string): Promise<void> {
    this.items.delete(key);
  }
}

/** What secureStorage needs of expo-secure-store. */
export interface SecureStoreLike {
  getItemAsync(key: string): Promise<string | null>;
  setItemAsync(key: string, value: string): Promise<void>;
  deleteItemAsync(key: string): Promise<void>;
}

/**
 * secureStorage makes expo-secure-store (the iOS Keychain, Android's
 * Keystore-encrypted preferences) a KeyValueStorage, for the session: its
 * token lets whoever holds it act as the user, so it belongs in the
 * platform's secure storage rather than in AsyncStorage's plain files.
 * SecureStore is meant for small values (iOS warns above 2048 bytes): keep
 * the synced store in AsyncStorage.
 *
 *   import * as SecureStore from 'expo-secure-store';
 *   const pb = await createClient(url, { storage: secureStorage(SecureStore), EventSource });
 *   const live = await LiveSync.open(pb, AsyncStorage);
 *
 * SecureStore has no web implementation: a web build keeps AsyncStorage
 * (localStorage) for the session.
 */
export function secureStorage(store: SecureStoreLike): KeyValueStorage {
  return {
    getItem: (key) => store.getItemAsync(key),
    setItem: (key, value) => store.setItemAsync(key, value),
    removeItem: (key) => store.deleteItemAsync(key),
  };
}
