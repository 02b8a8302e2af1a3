// Sign in, or create an account.
import { fieldErrors } from '@crews/hearth-client';
import { useState } from 'react';
import { Text, View } from 'react-native';
import { errorText, useHearth } from './hearth';
import { OAuth2Buttons } from './OAuth2Buttons';
import { Button, ErrorText, Field, styles } from './ui';

export function SignInScreen() {
  const { signIn, signUp } = useHearth();
  const [mode, setMode] = useState<'in' | 'up'>('in');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  // The server's own words about each field (fieldErrors), shown under it.
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError('');
    setFields({});
    try {
      if (mode === 'up') {
        await signUp(name.trim(), email.trim(), password);
      } else {
        await signIn(email.trim(), password);
      }
    } catch (err) {
      const byField = fieldErrors(err);
      setFields(byField);
      // The general message ("Failed to create record.") only when no field says more.
      setError(Object.keys(byField).length ? '' : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <View style={styles.screen}>
      <Text style={styles.title}>Crews</Text>
      <Text style={styles.muted}>{mode === 'up' ? 'Create your account' : 'Sign in to your groups'}</Text>
      {mode === 'up' && <Field testID="name" placeholder="Your name" value={name} onChangeText={setName} autoCapitalize="words" />}
      {mode === 'up' && <ErrorText testID="name-error" text={fields.name ?? ''} />}
      <Field testID="email" placeholder="Email" value={email} onChangeText={setEmail} keyboardType="email-address" />
      <ErrorText testID="email-error" text={fields.email ?? ''} />
      <Field testID="password" placeholder="Password" value={password} onChangeText={setPassword} secureTextEntry onSubmitEditing={submit} />
      <ErrorText testID="password-error" text={fields.password ?? fields.passwordConfirm ?? ''} />
      <ErrorText testID="auth-error" text={error} />
      <Button testID="submit" title={mode === 'up' ? 'Sign up' : 'Sign in'} onPress={submit} disabled={busy} />
      <Button
        testID="toggle-mode"
        kind="plain"
        title={mode === 'up' ? 'I have an account' : 'Create an account'}
        onPress={() => setMode(mode === 'up' ? 'in' : 'up')}
      />
      <OAuth2Buttons />
    </View>
  );
}
