// A group's chat: the synced messages, newest at the bottom, live through
// realtime.
import { useState } from 'react';
import { FlatList, Text, View } from 'react-native';
import { errorText, useSession } from './hearth';
import { useMessages, useNames } from './records';
import { Button, ErrorText, Field, Row, colors, styles } from './ui';

export function ChatTab({ groupId }: { groupId: string }) {
  const { pb, user, live } = useSession();
  const [body, setBody] = useState('');
  const [error, setError] = useState('');
  const messages = useMessages(groupId);
  const names = useNames();

  async function send() {
    setError('');
    try {
      const message = await pb.collection('messages').create({ group: groupId, body: body.trim() });
      await live.store.put('messages', message);
      setBody('');
    } catch (err) {
      setError(`Not sent: ${errorText(err)}`);
    }
  }

  return (
    <View style={{ flex: 1, gap: 8 }}>
      <FlatList
        testID="messages"
        data={messages}
        keyExtractor={(m) => m.id}
        contentContainerStyle={{ gap: 6 }}
        ListEmptyComponent={<Text style={styles.muted}>No messages yet.</Text>}
        renderItem={({ item }) => {
          const mine = item.author === user.id;
          return (
            <View testID="message" style={[styles.card, { alignSelf: mine ? 'flex-end' : 'flex-start', maxWidth: '80%', backgroundColor: mine ? '#fbe9e2' : colors.card }]}>
              <Text style={styles.muted}>{mine ? 'You' : names.get(item.author) ?? 'someone'}</Text>
              <Text style={styles.text}>{item.body}</Text>
            </View>
          );
        }}
      />
      <ErrorText testID="chat-error" text={error} />
      <Row>
        <Field testID="message-input" placeholder="Message" value={body} onChangeText={setBody} autoCapitalize="sentences" onSubmitEditing={send} />
        <Button testID="send" title="Send" onPress={send} disabled={!body.trim()} />
      </Row>
    </View>
  );
}
