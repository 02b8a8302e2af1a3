// Invite links: https://<server>/join/<code> (universal links, app links,
// and the web build's own address) and crews://join/<code> (the app's
// scheme), through expo-linking. The server's /join page and
// /.well-known files are docs/deploy.md's "Invite links".
import { joinByCode } from '@crews/hearth-client';
import * as Linking from 'expo-linking';
import { useEffect, useState } from 'react';
import { Platform } from 'react-native';
import { errorText, useHearth } from './hearth';
import { serverUrl } from './config';

/** The https link of an invite code: what the share sheet offers. */
export function inviteLink(code: string): string {
  return `${serverUrl()}/join/${encodeURIComponent(code)}`;
}

/**
 * inviteCodeOf returns the code of an invite link, or null for any other
 * URL. In crews://join/CODE, "join" is the host; in https://host/join/CODE
 * it is the path's first segment.
 */
export function inviteCodeOf(url: string): string | null {
  const { scheme, hostname, path } = Linking.parse(url);
  const web = scheme === 'http' || scheme === 'https';
  const segments = (web ? (path ?? '') : `${hostname ?? ''}/${path ?? ''}`).split('/').filter(Boolean);
  if (segments.length === 2 && segments[0] === 'join' && /^[A-Za-z0-9]{4,64}$/.test(segments[1])) {
    return segments[1];
  }
  return null;
}

/**
 * useJoinLink joins the crew of the invite link the app was opened with
 * (or is sent while open), once someone is signed in, and tells onJoined
 * the group. It returns what went wrong, for the screen to show.
 */
export function useJoinLink(onJoined: (group: string) => void): string {
  const { pb, user, live } = useHearth();
  const url = Linking.useURL();
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    const c = url ? inviteCodeOf(url) : null;
    if (c) {
      setCode(c);
    }
  }, [url]);

  useEffect(() => {
    if (!code || !pb || !user || !live) {
      return; // kept until someone signs in
    }
    setCode(null);
    if (Platform.OS === 'web') {
      // The address is the app's again: a reload does not join again.
      globalThis.history?.replaceState(null, '', '/');
    }
    joinByCode(pb, code)
      .then(async (joined) => {
        setError('');
        await live.sync().catch(() => undefined);
        onJoined(joined.group);
      })
      .catch((err) => setError(`This invite link does not work: ${errorText(err)}`));
  }, [code, pb, user, live, onJoined]);

  return error;
}
