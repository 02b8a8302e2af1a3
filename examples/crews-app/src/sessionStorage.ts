// Where a phone keeps the session: expo-secure-store (the iOS Keychain,
// Android's Keystore), as its token lets whoever holds it act as the user.
// The web build has its own file (sessionStorage.web.ts).
import { secureStorage } from '@crews/hearth-client';
import * as SecureStore from 'expo-secure-store';

export const sessionStorage = secureStorage(SecureStore);
