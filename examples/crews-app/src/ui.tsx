// Small building blocks shared by the screens.
import type { ReactNode } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View, type TextInputProps } from 'react-native';
import { useHearth } from './hearth';

export const colors = { ink: '#1f2a2e', muted: '#6b7478', accent: '#c4552d', line: '#ddd6c8', card: '#ffffff', warn: '#8a5a00' };

export function Button({ title, onPress, testID, disabled, kind = 'primary' }: {
  title: string;
  onPress: () => void;
  testID?: string;
  disabled?: boolean;
  kind?: 'primary' | 'plain';
}) {
  return (
    <Pressable
      accessibilityRole="button"
      testID={testID}
      disabled={disabled}
      onPress={onPress}
      style={[styles.button, kind === 'plain' && styles.plain, disabled && styles.disabled]}
    >
      <Text style={[styles.buttonText, kind === 'plain' && styles.plainText]}>{title}</Text>
    </Pressable>
  );
}

export function Field(props: TextInputProps) {
  return <TextInput placeholderTextColor={colors.muted} autoCapitalize="none" {...props} style={[styles.field, props.style]} />;
}

export function Row({ children }: { children: ReactNode }) {
  return <View style={styles.row}>{children}</View>;
}

export function Card({ children, testID, marked }: { children: ReactNode; testID?: string; marked?: boolean }) {
  return <View testID={testID} style={[styles.card, marked && styles.marked]}>{children}</View>;
}

export function ErrorText({ text, testID }: { text: string; testID?: string }) {
  return text ? <Text testID={testID} style={styles.error}>{text}</Text> : null;
}

/** Says so when the server cannot be reached and the screen shows the local store. */
export function ConnectionBanner() {
  const { connection } = useHearth();
  if (connection !== 'offline') {
    return null;
  }
  return (
    <Text testID="offline-banner" style={styles.banner}>
      Offline: showing what was synced. Changes made elsewhere arrive when the connection returns.
    </Text>
  );
}

export const styles = StyleSheet.create({
  screen: { flex: 1, padding: 16, gap: 12, maxWidth: 640, width: '100%', alignSelf: 'center' },
  title: { fontSize: 26, fontWeight: '700', color: colors.ink },
  heading: { fontSize: 18, fontWeight: '600', color: colors.ink },
  text: { fontSize: 15, color: colors.ink },
  muted: { fontSize: 13, color: colors.muted },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8 },
  card: { backgroundColor: colors.card, borderRadius: 10, padding: 12, gap: 6, borderWidth: 1, borderColor: colors.line },
  marked: { borderColor: colors.accent, borderWidth: 2 },
  field: { flex: 1, borderWidth: 1, borderColor: colors.line, borderRadius: 8, paddingHorizontal: 10, paddingVertical: 8, fontSize: 15, backgroundColor: '#fff', color: colors.ink },
  button: { backgroundColor: colors.accent, borderRadius: 8, paddingHorizontal: 14, paddingVertical: 9 },
  buttonText: { color: '#fff', fontWeight: '600', fontSize: 15 },
  plain: { backgroundColor: 'transparent', borderWidth: 1, borderColor: colors.line },
  plainText: { color: colors.ink },
  disabled: { opacity: 0.5 },
  error: { color: '#b3261e', fontSize: 14 },
  banner: { backgroundColor: '#fff3cd', color: colors.warn, padding: 10, borderRadius: 8, fontSize: 14 },
});
