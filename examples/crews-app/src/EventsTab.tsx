// A group's events, each with the signed-in user's RSVP: going, waitlisted
// (with the place in line), not answered, or an answer still being sent,
// and a notice when a place on the waitlist turned into going. Creating
// and editing an event and answering go through the write queue: shown at
// once as pending, sent when the server can be reached, a refusal shown
// with the server's message.
import { isPending, type EventsRecord, type RsvpRequest } from '@crews/hearth-client';
import { useEffect, useRef, useState } from 'react';
import { FlatList, Text, View } from 'react-native';
import { errorText, refusalText, useSession } from './hearth';
import { useEvents, useRsvps, waitlistPlace } from './records';
import { Button, Card, ErrorText, Field, Row, styles } from './ui';

const WEEK = 7 * 24 * 60 * 60 * 1000;

const ANSWERS: Record<RsvpRequest, string> = { going: 'Going', maybe: 'Maybe', declined: "Can't go" };

export function EventsTab({ groupId, focus }: { groupId: string; focus?: string }) {
  const { live } = useSession();
  const [title, setTitle] = useState('');
  const [capacity, setCapacity] = useState('');
  // The event being edited in the fields below; null: they make a new one.
  const [editing, setEditing] = useState<EventsRecord | null>(null);
  const [error, setError] = useState('');
  const events = useEvents(groupId);

  function edit(event: EventsRecord) {
    setEditing(event);
    setTitle(event.title);
    setCapacity(event.capacity ? String(event.capacity) : '');
  }

  async function save() {
    setError('');
    try {
      const fields = { title: title.trim(), capacity: Number(capacity) || 0 };
      if (editing) {
        await live.queue.update('events', editing.id, fields);
      } else {
        // A week from now at the full hour: the example keeps date pickers out.
        const start = new Date(Math.ceil((Date.now() + WEEK) / 3600e3) * 3600e3);
        await live.queue.create('events', { group: groupId, starts_at: start.toISOString().replace('T', ' '), ...fields });
      }
      setEditing(null);
      setTitle('');
      setCapacity('');
    } catch (err) {
      setError(errorText(err));
    }
  }
  const refused = live.store.refusals().filter((r) => r.collection === 'events' && (r.data.group === groupId || events.some((e) => e.id === r.id)));

  return (
    <View style={{ flex: 1, gap: 8 }}>
      <FlatList
        data={events}
        keyExtractor={(e) => e.id}
        contentContainerStyle={{ gap: 8 }}
        ListEmptyComponent={<Text style={styles.muted}>No events yet.</Text>}
        renderItem={({ item }) => <EventCard event={item} focused={item.id === focus} onEdit={() => edit(item)} />}
      />
      {refused.map((r) => (
        <Row key={r.seq}>
          <ErrorText testID="event-refused" text={`Event not saved: "${String(r.data.title ?? '')}": ${refusalText(r)}`} />
          <Button testID="dismiss-refused" kind="plain" title="OK" onPress={() => live.store.dismiss(r.seq)} />
        </Row>
      ))}
      <ErrorText text={error} />
      <Row>
        <Field testID="event-title" placeholder={editing ? 'Event title' : 'New event'} value={title} onChangeText={setTitle} autoCapitalize="sentences" />
        <Field testID="event-capacity" placeholder="Places (0: any)" value={capacity} onChangeText={setCapacity} keyboardType="number-pad" style={{ flex: 0, width: 130 }} />
        <Button testID="create-event" title={editing ? 'Save' : 'Add'} onPress={save} disabled={!title.trim()} />
      </Row>
    </View>
  );
}

function EventCard({ event, focused, onEdit }: { event: EventsRecord; focused: boolean; onEdit: () => void }) {
  const { user, live } = useSession();
  const [error, setError] = useState('');
  const rsvps = useRsvps(event.id);
  const mine = rsvps.find((r) => r.user === user.id);
  // A pending answer holds what was asked, not what the server will store
  // (a full event waitlists a "going"): the card says so until the
  // server's record arrives.
  const pending = isPending(mine);
  const status = pending ? undefined : mine?.status;
  const promoted = usePromotion(status);
  const refused = live.store.refusals().filter((r) => r.collection === 'rsvps' && (r.data.event === event.id || r.id === mine?.id));

  async function answer(s: RsvpRequest) {
    setError('');
    try {
      await live.queue.rsvp(event.id, s);
    } catch (err) {
      setError(errorText(err));
    }
  }

  let statusText = 'You have not answered';
  if (status === 'going') statusText = 'You are going';
  if (status === 'maybe') statusText = 'You might go';
  if (status === 'declined') statusText = 'You are not going';
  if (status === 'waitlisted' && mine) statusText = `You are waitlisted (#${waitlistPlace(rsvps, mine)} in line)`;
  if (pending && mine) statusText = `Sending your answer "${ANSWERS[mine.status as RsvpRequest] ?? mine.status}"…`;

  return (
    <Card testID={`event-${event.title}`} marked={focused}>
      <Text style={styles.heading}>{event.title}</Text>
      <Text style={styles.muted}>
        {new Date(event.starts_at.replace(' ', 'T')).toLocaleString()} ·{' '}
        <Text testID="going-count">{event.going_count ?? 0}</Text> going{event.capacity ? ` of ${event.capacity} places` : ''}
      </Text>
      {isPending(event) && <Text testID="event-pending" style={styles.muted}>Saving…</Text>}
      <Text testID={pending ? 'rsvp-pending' : 'rsvp-status'} style={styles.text}>{statusText}</Text>
      {promoted && <Text testID="promoted" style={[styles.text, { fontWeight: '700' }]}>A place freed up: you moved from the waitlist to going!</Text>}
      <Row>
        <Button testID="rsvp-going" kind={status === 'going' || status === 'waitlisted' ? 'primary' : 'plain'} title={ANSWERS.going} onPress={() => answer('going')} />
        <Button testID="rsvp-maybe" kind={status === 'maybe' ? 'primary' : 'plain'} title={ANSWERS.maybe} onPress={() => answer('maybe')} />
        <Button testID="rsvp-declined" kind={status === 'declined' ? 'primary' : 'plain'} title={ANSWERS.declined} onPress={() => answer('declined')} />
        {event.created_by === user.id && <Button testID="edit-event" kind="plain" title="Edit" onPress={onEdit} />}
      </Row>
      {refused.map((r) => (
        <Row key={r.seq}>
          <ErrorText testID="rsvp-refused" text={`Answer not saved: ${refusalText(r)}`} />
          <Button testID="dismiss-refused" kind="plain" title="OK" onPress={() => live.store.dismiss(r.seq)} />
        </Row>
      ))}
      <ErrorText text={error} />
    </Card>
  );
}

/** True once status went from waitlisted to going while the card was shown. */
function usePromotion(status: string | undefined): boolean {
  const previous = useRef(status);
  const [promoted, setPromoted] = useState(false);
  useEffect(() => {
    if (previous.current === 'waitlisted' && status === 'going') {
      setPromoted(true);
    } else if (status !== 'going') {
      setPromoted(false);
    }
    previous.current = status;
  }, [status]);
  return promoted;
}
