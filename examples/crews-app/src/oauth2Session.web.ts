// OAuth2 sign-in in the web build: the page goes to the provider and comes
// back to the app's root with the code and state in its query, which
// finishOAuth2 exchanges on the next start (the root: the build's files
// are addressed relative to it). The request's state and PKCE verifier wait in localStorage
// (AsyncStorage on the web) in between.
import AsyncStorage from '@react-native-async-storage/async-storage';
import { finishOAuth2Redirect, startOAuth2Redirect, type TypedPocketBase } from '@crews/hearth-client';

interface WebLocation {
  origin: string;
  href: string;
  search: string;
  assign(url: string): void;
}
const web = globalThis as unknown as { location: WebLocation; history: { replaceState(d: unknown, t: string, url: string): void } };

const CALLBACK = '/';

export async function oauth2SignIn(pb: TypedPocketBase, provider: string): Promise<boolean> {
  const url = await startOAuth2Redirect(pb, provider, web.location.origin + CALLBACK, AsyncStorage);
  web.location.assign(url);
  return false; // the page is leaving
}

export async function finishOAuth2(pb: TypedPocketBase): Promise<boolean> {
  if (!/[?&]state=/.test(web.location.search)) {
    return false;
  }
  const href = web.location.href;
  // The code is good once: off the address bar before anything else.
  web.history.replaceState(null, '', CALLBACK);
  return (await finishOAuth2Redirect(pb, href, AsyncStorage)) !== null;
}
