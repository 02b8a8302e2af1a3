// Crews: sign in, your groups, a group's chat and events. Every screen reads
// the synced local store, so the app shows what it has while offline.
import { useEffect, useState } from 'react';
import { SafeAreaView, StyleSheet } from 'react-native';
import { HearthProvider, useHearth } from './src/hearth';
import { GroupScreen } from './src/GroupScreen';
import { GroupsScreen } from './src/GroupsScreen';
import { SignInScreen } from './src/SignInScreen';
import { useJoinLink } from './src/links';
import { onPushTap, type PushTarget } from './src/push';
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
  // A tapped push opens its group on the message's chat or the events.
  const [opened, setOpened] = useState<PushTarget | null>(null);
  useEffect(() => onPushTap((target) => {
    setOpened(target);
    setGroup(target.group);
  }), []);
  const linkError = useJoinLink(setGroup);
  const target = group && opened?.group === group ? opened : null;
  return (
    <>
      {linkError !== '' && <ErrorText testID="link-error" text={linkError} />}
      {!user ? (
        <SignInScreen />
      ) : group ? (
        <GroupScreen
          key={`${group}-${target?.tab}-${target?.event}`}
          groupId={group}
          initialTab={target?.tab}
          focusEvent={target?.event}
          onBack={() => { setGroup(null); setOpened(null); }}
        />
      ) : (
        <GroupsScreen onOpen={setGroup} />
      )}
    </>
  );
}

const styles = StyleSheet.create({
  app: { flex: 1, backgroundColor: '#f6f4ef' },
});
