// The sign-in buttons of the OAuth2 providers the server offers (Apple,
// Google, an OpenID Connect provider; docs/auth.md), and the end of a
// sign-in that left the page (web).
import { oauth2Providers } from '@crews/hearth-client';
import { useEffect, useState } from 'react';
import { View } from 'react-native';
import { errorText, useHearth } from './hearth';
import { finishOAuth2, oauth2SignIn } from './oauth2Session';
import { Button, ErrorText } from './ui';

export function OAuth2Buttons() {
  const { pb, adopt } = useHearth();
  const [providers, setProviders] = useState<{ name: string; displayName: string }[]>([]);
  const [error, setError] = useState('');

  useEffect(() => {
    if (!pb) {
      return;
    }
    let alive = true;
    finishOAuth2(pb)
      .then((signedIn) => (signedIn ? adopt() : undefined))
      .catch((err) => alive && setError(errorText(err)));
    oauth2Providers(pb)
      .then((list) => alive && setProviders(list))
      .catch(() => undefined); // offline: password sign-in still shows
    return () => {
      alive = false;
    };
  }, [pb, adopt]);

  async function signIn(provider: string) {
    if (!pb) {
      return;
    }
    setError('');
    try {
      if (await oauth2SignIn(pb, provider)) {
        await adopt();
      }
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <View>
      {providers.map((p) => (
        <Button key={p.name} testID={`oauth2-${p.name}`} kind="plain" title={`Continue with ${p.displayName}`} onPress={() => signIn(p.name)} />
      ))}
      <ErrorText testID="oauth2-error" text={error} />
    </View>
  );
}
