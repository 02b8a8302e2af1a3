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
