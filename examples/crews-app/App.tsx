// Crews: sign in, your groups, a group's chat and events. Every screen reads
// the synced local store, so the app shows what it has while offline.
import { useState } from 'react';
import { SafeAreaView, StyleSheet } from 'react-native';
import { HearthProvider, useHearth } from './src/hearth';
import { GroupScreen } from './src/GroupScreen';
import { GroupsScreen } from './src/GroupsScreen';
import { SignInScreen } from './src/SignInScreen';

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
  if (!user) {
    return <SignInScreen />;
  }
  if (group) {
    return <GroupScreen groupId={group} onBack={() => setGroup(null)} />;
  }
  return <GroupsScreen onOpen={setGroup} />;
}

const styles = StyleSheet.create({
  app: { flex: 1, backgroundColor: '#f6f4ef' },
});
