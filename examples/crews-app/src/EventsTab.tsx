// A group's events, each with the signed-in user's RSVP: going, waitlisted
// (with the place in line) or not answered, and a notice when a place on
// the waitlist turned into going.
import { rsvp, type EventsRecord, type RsvpRequest } from '@crews/hearth-client';
import { useEffect, useRef, useState } from 'react';
import { FlatList, Text, View } from 'react-native';
import { errorText, useSession } from './hearth';
import { useEvents, useRsvps, waitlistPlace } from './records';
import { Button, Card, ErrorText, Field, Row, styles } from './ui';

const WEEK = 7 * 24 * 60 * 60 * 1000;

export function EventsTab({ groupId, focus }: { groupId: string; focus?: string }) {
  const { pb, live } = useSession();
  const [title, setTitle] = useState('');
  const [capacity, setCapacity] = useState('');
  const [error, setError] = useState('');
  const events = useEvents(groupId);

  async function create() {
    setError('');
    try {
      // A week from now at the full hour: the example keeps date pickers out.
      const start = new Date(Math.ceil((Date.now() + WEEK) / 3600e3) * 3600e3);
      const event = await pb.collection('events').create({
        group: groupId,
        title: title.trim(),
        starts_at: start.toISOString().replace('T', ' '),
        capacity: Number(capacity) || 0,
      });
      await live.store.put('events', event);
      setTitle('');
      setCapacity('');
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <View style={{ flex: 1, gap: 8 }}>
      <FlatList
        data={events}
        keyExtractor={(e) => e.id}
        contentContainerStyle={{ gap: 8 }}
        ListEmptyComponent={<Text style={styles.muted}>No events yet.</Text>}
        renderItem={({ item }) => <EventCard event={item} focused={item.id === focus} />}
      />
      <ErrorText text={error} />
      <Row>
        <Field testID="event-title" placeholder="New event" value={title} onChangeText={setTitle} autoCapitalize="sentences" />
        <Field testID="event-capacity" placeholder="Places (0: any)" value={capacity} onChangeText={setCapacity} keyboardType="number-pad" style={{ flex: 0, width: 130 }} />
        <Button testID="create-event" title="Add" onPress={create} disabled={!title.trim()} />
      </Row>
    </View>
  );
}

function EventCard({ event, focused }: { event: EventsRecord; focused: boolean }) {
  const { pb, user, live } = useSession();
  const [error, setError] = useState('');
  const rsvps = useRsvps(event.id);
  const mine = rsvps.find((r) => r.user === user.id);
  const status = mine?.status;
  const promoted = usePromotion(status);

  async function answer(s: RsvpRequest) {
    setError('');
    try {
      const stored = await rsvp(pb, event.id, s);
      await live.store.put('rsvps', stored);
    } catch (err) {
      setError(errorText(err));
    }
  }

  let statusText = 'You have not answered';
  if (status === 'going') statusText = 'You are going';
  if (status === 'maybe') statusText = 'You might go';
  if (status === 'declined') statusText = 'You are not going';
  if (status === 'waitlisted' && mine) statusText = `You are waitlisted (#${waitlistPlace(rsvps, mine)} in line)`;

  return (
    <Card testID={`event-${event.title}`} marked={focused}>
      <Text style={styles.heading}>{event.title}</Text>
      <Text style={styles.muted}>
        {new Date(event.starts_at.replace(' ', 'T')).toLocaleString()} ·{' '}
        <Text testID="going-count">{event.going_count}</Text> going{event.capacity ? ` of ${event.capacity} places` : ''}
      </Text>
      <Text testID="rsvp-status" style={styles.text}>{statusText}</Text>
      {promoted && <Text testID="promoted" style={[styles.text, { fontWeight: '700' }]}>A place freed up: you moved from the waitlist to going!</Text>}
      <Row>
        <Button testID="rsvp-going" kind={status === 'going' || status === 'waitlisted' ? 'primary' : 'plain'} title="Going" onPress={() => answer('going')} />
        <Button testID="rsvp-maybe" kind={status === 'maybe' ? 'primary' : 'plain'} title="Maybe" onPress={() => answer('maybe')} />
        <Button testID="rsvp-declined" kind={status === 'declined' ? 'primary' : 'plain'} title="Can't go" onPress={() => answer('declined')} />
      </Row>
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
