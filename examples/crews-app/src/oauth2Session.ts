// OAuth2 sign-in on a phone: the provider's page in the system's auth
// browser (expo-web-browser), which hands the redirect to the app's own
// scheme back to the app (crews://auth/callback; the scheme is app.json's
// "scheme"). The web build uses oauth2Session.web.ts instead.
import { signInWithOAuth2, type TypedPocketBase } from '@crews/hearth-client';
import * as AuthSession from 'expo-auth-session';
import * as WebBrowser from 'expo-web-browser';

// Closes the auth browser's popup when the app is opened by the redirect.
WebBrowser.maybeCompleteAuthSession();

/** oauth2SignIn signs pb in with provider; false when the person closed the browser. */
export async function oauth2SignIn(pb: TypedPocketBase, provider: string): Promise<boolean> {
  const redirectUri = AuthSession.makeRedirectUri({ scheme: 'crews', path: 'auth/callback' });
  const auth = await signInWithOAuth2(pb, provider, {
    redirectUri,
    openAuthSession: (url, redirect) => WebBrowser.openAuthSessionAsync(url, redirect),
  });
  return auth !== null;
}

/** finishOAuth2 completes a sign-in the page left for (web only): a phone has none. */
export async function finishOAuth2(_pb: TypedPocketBase): Promise<boolean> {
  return false;
}
