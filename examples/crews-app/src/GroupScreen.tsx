// One group: its chat and its events, and an invite for owners and admins.
import { createInvite } from '@crews/hearth-client';
import { useState } from 'react';
import { Share, Text, View } from 'react-native';
import { ChatTab } from './ChatTab';
import { EventsTab } from './EventsTab';
import { errorText, useSession } from './hearth';
import { useGroup, useMembership } from './records';
import { inviteLink } from './links';
import { Button, ConnectionBanner, ErrorText, Row, styles } from './ui';

export function GroupScreen({ groupId, onBack, initialTab = 'chat', focusEvent }: {
  groupId: string;
  onBack: () => void;
  initialTab?: 'chat' | 'events';
  /** An event to show marked (a tapped push's). */
  focusEvent?: string;
}) {
  const { pb, user } = useSession();
  const [tab, setTab] = useState<'chat' | 'events'>(initialTab);
  const [code, setCode] = useState('');
  const [error, setError] = useState('');

  const group = useGroup(groupId);
  const role = useMembership(groupId, user.id)?.role;

  async function invite() {
    setError('');
    try {
      const inv = await createInvite(pb, groupId);
      setCode(inv.code);
      // The share sheet at once: the link opens the app, or the join page.
      Share.share({ message: `Join ${group?.name} on Crews: ${inviteLink(inv.code)}`, url: inviteLink(inv.code) }).catch(() => undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <View style={styles.screen}>
      <Row>
        <Button testID="back" kind="plain" title="‹ Groups" onPress={onBack} />
        <Text testID="group-title" style={[styles.title, { flex: 1 }]} numberOfLines={1}>{group?.name ?? '…'}</Text>
      </Row>
      <ConnectionBanner />
      {(role === 'owner' || role === 'admin') && (
        <Row>
          <Button testID="create-invite" kind="plain" title="Invite people" onPress={invite} />
          {code !== '' && (
            <>
              <Text testID="invite-code" selectable style={[styles.heading, { letterSpacing: 2 }]}>{code}</Text>
              <Button testID="share-invite" kind="plain" title="Share" onPress={() => Share.share({ message: `Join ${group?.name} on Crews: ${inviteLink(code)} (or use the code ${code})`, url: inviteLink(code) })} />
            </>
          )}
        </Row>
      )}
      <ErrorText text={error} />
      <Row>
        <Button testID="tab-chat" kind={tab === 'chat' ? 'primary' : 'plain'} title="Chat" onPress={() => setTab('chat')} />
        <Button testID="tab-events" kind={tab === 'events' ? 'primary' : 'plain'} title="Events" onPress={() => setTab('events')} />
      </Row>
      {tab === 'chat' ? <ChatTab groupId={groupId} /> : <EventsTab groupId={groupId} focus={focusEvent} />}
    </View>
  );
}
