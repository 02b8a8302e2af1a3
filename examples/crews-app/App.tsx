// Crews: sign in, your groups, a group's chat and events. Every screen reads
// the synced local store, so the app shows what it has while offline.
import { useState } from 'react';
import { SafeAreaView, StyleSheet } from 'react-native';
import { HearthProvider, useHearth } from './src/hearth';
import { GroupScreen } from './src/GroupScreen';
import { GroupsScreen } from './src/GroupsScreen';
import { SignInScreen } from './src/SignInScreen';
import { useJoinLink } from './src/links';
import { ErrorText } from './src/ui';

export default function App() {
  return (
    <HearthProvider>
      <SafeAreaView style={styles.app}>
        <Screens />
      </SafeAreaView>
    </HearthProvider>
  );
}

function Screens() {
  const { user } = useHearth();
  const [group, setGroup] = useState<string | null>(null);
  const linkError = useJoinLink(setGroup);
  return (
    <>
      {linkError !== '' && <ErrorText testID="link-error" text={linkError} />}
      {!user ? <SignInScreen /> : group ? <GroupScreen groupId={group} onBack={() => setGroup(null)} /> : <GroupsScreen onOpen={setGroup} />}
    </>
  );
}

const styles = StyleSheet.create({
  app: { flex: 1, backgroundColor: '#f6f4ef' },
});
