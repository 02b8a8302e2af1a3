// My groups: open one, create one, join one with an invite code.
import { joinByCode } from '@crews/hearth-client';
import { useState } from 'react';
import { FlatList, Pressable, Text, View } from 'react-native';
import { errorText, useHearth, useSession } from './hearth';
import { useMyGroups } from './records';
import { Button, Card, ConnectionBanner, ErrorText, Field, Row, styles } from './ui';

export function GroupsScreen({ onOpen }: { onOpen: (group: string) => void }) {
  const { signOut } = useHearth();
  const { pb, user, live } = useSession();
  const groups = useMyGroups(user.id);
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');

  async function act(f: () => Promise<void>) {
    setError('');
    try {
      await f();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const create = () => act(async () => {
    const group = await pb.collection('groups').create({ name: name.trim() });
    await live.store.put('groups', group);
    await live.sync();
    setName('');
  });

  const join = () => act(async () => {
    const joined = await joinByCode(pb, code);
    await live.sync();
    setCode('');
    onOpen(joined.group);
  });

  return (
    <View style={styles.screen}>
      <Row>
        <Text style={[styles.title, { flex: 1 }]}>My groups</Text>
        <Text testID="me" style={styles.muted}>{user.name}</Text>
        <Button testID="sign-out" kind="plain" title="Sign out" onPress={() => act(signOut)} />
      </Row>
      <ConnectionBanner />
      <FlatList
        data={groups}
        keyExtractor={(g) => g.group.id}
        contentContainerStyle={{ gap: 8 }}
        ListEmptyComponent={<Text style={styles.muted}>No groups yet: create one or join with a code.</Text>}
        renderItem={({ item }) => (
          <Pressable testID={`group-${item.group.name}`} accessibilityRole="button" onPress={() => onOpen(item.group.id)}>
            <Card>
              <Text style={styles.heading}>{item.group.name}</Text>
              <Text style={styles.muted}>{item.role}</Text>
            </Card>
          </Pressable>
        )}
      />
      <Row>
        <Field testID="new-group-name" placeholder="New group name" value={name} onChangeText={setName} autoCapitalize="sentences" />
        <Button testID="create-group" title="Create" onPress={create} disabled={!name.trim()} />
      </Row>
      <Row>
        <Field testID="join-code" placeholder="Invite code" value={code} onChangeText={setCode} autoCapitalize="characters" />
        <Button testID="join" title="Join" onPress={join} disabled={!code.trim()} />
      </Row>
      <ErrorText testID="groups-error" text={error} />
    </View>
  );
}
