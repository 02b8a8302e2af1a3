// A group's chat: the synced messages, newest at the bottom, live through
// realtime. Posts and edits go through the write queue: shown at once as
// pending, sent when the server can be reached, a refusal shown with the
// server's message.
import { isPending } from '@crews/hearth-client';
import { useState } from 'react';
import { FlatList, Text, View } from 'react-native';
import { errorText, refusalText, useSession } from './hearth';
import { useMessages, useNames } from './records';
import { Button, ErrorText, Field, Row, colors, styles } from './ui';

export function ChatTab({ groupId }: { groupId: string }) {
  const { user, live } = useSession();
  const [body, setBody] = useState('');
  // The message being edited in the field below; null: it posts a new one.
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState('');
  const messages = useMessages(groupId);
  const names = useNames();

  // Queued: shown at once as pending, sent when the server can be reached.
  async function send() {
    setError('');
    try {
      if (editing) {
        await live.queue.update('messages', editing, { body: body.trim() });
      } else {
        await live.queue.create('messages', { group: groupId, body: body.trim() });
      }
      setEditing(null);
      setBody('');
    } catch (err) {
      setError(`Not sent: ${errorText(err)}`);
    }
  }
  const refused = live.store.refusals().filter((r) => r.collection === 'messages' && r.data.group === groupId);

  return (
    <View style={{ flex: 1, gap: 8 }}>
      <FlatList
        testID="messages"
        data={messages}
        keyExtractor={(m) => m.id}
        contentContainerStyle={{ gap: 6 }}
        ListEmptyComponent={<Text style={styles.muted}>No messages yet.</Text>}
        renderItem={({ item }) => {
          // A pending message is this phone's own write; the server sets
          // its author when it takes it.
          const mine = item.author === user.id || (isPending(item) && !item.author);
          return (
            <View testID="message" style={[styles.card, { alignSelf: mine ? 'flex-end' : 'flex-start', maxWidth: '80%', backgroundColor: mine ? '#fbe9e2' : colors.card }]}>
              <Text style={styles.muted}>{mine ? 'You' : !item.author ? 'Deleted account' : names.get(item.author) ?? 'someone'}</Text>
              <Text style={styles.text}>{item.body}</Text>
              {isPending(item) && <Text testID="pending" style={styles.muted}>Sending…</Text>}
              {mine && (
                <Button
                  testID="edit-message"
                  kind="plain"
                  title="Edit"
                  onPress={() => {
                    setEditing(item.id);
                    setBody(item.body);
                  }}
                />
              )}
            </View>
          );
        }}
      />
      {refused.map((r) => (
        <Row key={r.seq}>
          <ErrorText testID="refused" text={`Not sent: "${String(r.data.body ?? '')}": ${refusalText(r)}`} />
          <Button testID="dismiss-refused" kind="plain" title="OK" onPress={() => live.store.dismiss(r.seq)} />
        </Row>
      ))}
      <ErrorText testID="chat-error" text={error} />
      <Row>
        <Field testID="message-input" placeholder="Message" value={body} onChangeText={setBody} autoCapitalize="sentences" onSubmitEditing={send} />
        <Button testID="send" title={editing ? 'Save' : 'Send'} onPress={send} disabled={!body.trim()} />
      </Row>
    </View>
  );
}
