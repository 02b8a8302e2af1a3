// Sign-in with an OAuth2 provider (Apple, Google, an OpenID Connect
// provider) the way phone apps do it: the authorization code flow with
// PKCE in the system's auth browser, redirecting to the app's own URL
// scheme, then the code exchanged by Hearth (authWithOAuth2Code). Hearth
// makes the state and the PKCE pair (listAuthMethods); the phone only
// carries them. docs/auth.md has the provider settings.
//
// With Expo (expo-auth-session and expo-web-browser, installed by the app):
//
//   import * as AuthSession from 'expo-auth-session';
//   import * as WebBrowser from 'expo-web-browser';
//   const redirectUri = AuthSession.makeRedirectUri({ scheme: 'crews', path: 'auth/callback' });
//   const auth = await signInWithOAuth2(pb, 'apple', {
//     redirectUri,
//     openAuthSession: (url, redirect) => WebBrowser.openAuthSessionAsync(url, redirect),
//   });
//   if (auth === null) { /* the person closed the browser */ }
//
// On the web, where the page itself goes to the provider and comes back,
// startOAuth2Redirect and finishOAuth2Redirect split the same steps around
// the navigation.
import type PocketBase from 'pocketbase';
import type { AuthProviderInfo, RecordAuthResponse } from 'pocketbase';
import type { KeyValueStorage } from './storage.js';
import type { UsersRecord } from './types.gen.js';

/** What an auth browser session ends with (expo-web-browser's WebBrowserAuthSessionResult). */
export interface AuthSessionResult {
  type: string; // 'success' carries url; 'cancel', 'dismiss', ... do not
  url?: string;
}

/** Opens authUrl in the auth browser and resolves when it reaches redirectUri (or is closed). */
export type OpenAuthSession = (authUrl: string, redirectUri: string) => Promise<AuthSessionResult>;

export interface OAuth2Options {
  /** The app's redirect URL (crews://auth/callback), allowed at the provider. */
  redirectUri: string;
  openAuthSession: OpenAuthSession;
  /** Fields of the account made by a first sign-in (a name Apple gave the app, say). */
  createData?: Record<string, unknown>;
}

/** The OAuth2 providers the server offers, in its order, for the sign-in buttons. */
export async function oauth2Providers(pb: PocketBase): Promise<AuthProviderInfo[]> {
  const methods = await pb.collection('users').listAuthMethods();
  return methods.oauth2.enabled ? methods.oauth2.providers : [];
}

/**
 * signInWithOAuth2 signs pb in with provider: the provider's page in the
 * auth browser, then the code exchange. Null when the person closed the
 * browser; an Error when the provider refused or the answer was not the
 * one this request asked for (another state).
 */
export async function signInWithOAuth2(
  pb: PocketBase,
  provider: string,
  opts: OAuth2Options,
): Promise<RecordAuthResponse<UsersRecord> | null> {
  const info = await providerInfo(pb, provider);
  const result = await opts.openAuthSession(authorizationUrl(info, opts.redirectUri), opts.redirectUri);
  if (result.type !== 'success' || !result.url) {
    return null;
  }
  return exchange(pb, info, result.url, opts.redirectUri, opts.createData);
}

const PENDING_KEY = 'hearth.oauth2';

/**
 * startOAuth2Redirect is the first half of a sign-in in a web page: it
 * keeps the request's state and PKCE verifier in storage and returns the
 * URL to send the page to.
 */
export async function startOAuth2Redirect(
  pb: PocketBase,
  provider: string,
  redirectUri: string,
  storage: KeyValueStorage,
): Promise<string> {
  const info = await providerInfo(pb, provider);
  await storage.setItem(PENDING_KEY, JSON.stringify({ info, redirectUri }));
  return authorizationUrl(info, redirectUri);
}

/**
 * finishOAuth2Redirect is the second half, on the page the provider sent
 * back to (url, with its code and state): null when no sign-in was under
 * way.
 */
export async function finishOAuth2Redirect(
  pb: PocketBase,
  url: string,
  storage: KeyValueStorage,
  createData?: Record<string, unknown>,
): Promise<RecordAuthResponse<UsersRecord> | null> {
  const raw = await storage.getItem(PENDING_KEY);
  if (!raw) {
    return null;
  }
  await storage.removeItem(PENDING_KEY); // a code is good for one exchange
  const { info, redirectUri } = JSON.parse(raw) as { info: AuthProviderInfo; redirectUri: string };
  return exchange(pb, info, url, redirectUri, createData);
}

async function providerInfo(pb: PocketBase, provider: string): Promise<AuthProviderInfo> {
  const info = (await oauth2Providers(pb)).find((p) => p.name === provider);
  if (!info) {
    throw new Error(`The server offers no sign-in with ${provider}.`);
  }
  return info;
}

/** PocketBase's authURL ends with redirect_uri= for the app to complete. */
function authorizationUrl(info: AuthProviderInfo, redirectUri: string): string {
  return info.authURL + encodeURIComponent(redirectUri);
}

async function exchange(
  pb: PocketBase,
  info: AuthProviderInfo,
  url: string,
  redirectUri: string,
  createData?: Record<string, unknown>,
): Promise<RecordAuthResponse<UsersRecord>> {
  const params = callbackParams(url);
  if (params.error) {
    throw new Error(`${info.displayName}: ${params.error_description || params.error}`);
  }
  if (params.state !== info.state) {
    throw new Error(`${info.displayName}: the answer is not for this sign-in (state mismatch).`);
  }
  if (!params.code) {
    throw new Error(`${info.displayName}: no code in the answer.`);
  }
  return pb.collection('users').authWithOAuth2Code<UsersRecord>(info.name, params.code, info.codeVerifier, redirectUri, createData);
}

/**
 * callbackParams reads the query and fragment parameters of a redirect
 * URL by hand: React Native's URL has no searchParams.
 */
function callbackParams(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  const query = url.split('#')[0].split('?')[1] ?? '';
  const fragment = url.split('#')[1] ?? '';
  for (const part of [...query.split('&'), ...fragment.split('&')]) {
    if (!part) continue;
    const [k, v = ''] = part.split('=');
    out[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, ' '));
  }
  return out;
}
