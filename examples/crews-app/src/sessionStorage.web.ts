// The web build keeps the session in AsyncStorage (localStorage):
// expo-secure-store has no web implementation.
import AsyncStorage from '@react-native-async-storage/async-storage';

export const sessionStorage = AsyncStorage;
