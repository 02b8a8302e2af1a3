// Push notifications on a phone: the recipe of docs/push.md, as Expo's
// guide has it (https://docs.expo.dev/push-notifications/push-notifications-setup/).
// Needs a development build (eas.json's "development" profile): Expo Go
// has no push since SDK 53 on Android, and an EAS project id (app.json's
// extra.eas.projectId). The web build has no push (push.web.ts).
import { registerDevice, type TypedPocketBase } from '@crews/hearth-client';
import Constants from 'expo-constants';
import * as Device from 'expo-device';
import * as Notifications from 'expo-notifications';
import { Platform } from 'react-native';

/** Where a tapped notification leads: a group's chat, or its events with the push's event shown. */
export interface PushTarget {
  group: string;
  tab: 'chat' | 'events';
  event?: string;
}

// Show pushes that arrive while the app is open, too.
Notifications.setNotificationHandler({
  handleNotification: async () => ({ shouldShowBanner: true, shouldShowList: true, shouldPlaySound: true, shouldSetBadge: false }),
});

/**
 * registerForPush asks for permission, gets this phone's Expo push token
 * and registers it with Hearth for the signed-in user. Call it after every
 * sign-in and start (a token can change; registering again is harmless).
 * null where there is no push: a simulator, or permission refused.
 * getExpoPushTokenAsync asks Expo's servers and fails offline: the caller
 * tries again at the next start.
 */
export async function registerForPush(pb: TypedPocketBase): Promise<string | null> {
  if (Platform.OS === 'android') {
    // Android 13+ asks for permission only once a channel exists.
    await Notifications.setNotificationChannelAsync('default', {
      name: 'Crews',
      importance: Notifications.AndroidImportance.HIGH,
    });
  }
  if (!Device.isDevice) {
    return null;
  }
  let { status } = await Notifications.getPermissionsAsync();
  if (status !== 'granted') {
    ({ status } = await Notifications.requestPermissionsAsync());
  }
  if (status !== 'granted') {
    return null;
  }
  const projectId = Constants.expoConfig?.extra?.eas?.projectId ?? Constants.easConfig?.projectId;
  if (!projectId) {
    throw new Error('push: no EAS project id (app.json extra.eas.projectId; run `eas init`)');
  }
  const { data: token } = await Notifications.getExpoPushTokenAsync({ projectId });
  await registerDevice(pb, token, Platform.OS === 'ios' ? 'ios' : 'android');
  return token;
}

/**
 * onPushTap calls open with the screen a tapped notification is about
 * (docs/push.md lists each push's data): a message's chat, or the events
 * of the event's group with that event shown. It covers the tap that started the app, too. Returns the
 * function that stops listening.
 */
export function onPushTap(open: (target: PushTarget) => void): () => void {
  const handle = (response: Notifications.NotificationResponse | null) => {
    const target = response && pushTarget(response.notification.request.content.data);
    if (target) {
      open(target);
    }
  };
  Notifications.getLastNotificationResponseAsync().then(handle, () => undefined);
  const subscription = Notifications.addNotificationResponseReceivedListener(handle);
  return () => subscription.remove();
}

/** The screen of a push's data, or null for data that is not Hearth's. */
export function pushTarget(data: Record<string, unknown> | undefined): PushTarget | null {
  if (!data || typeof data.group !== 'string') {
    return null;
  }
  if (data.type === 'message') {
    return { group: data.group, tab: 'chat' };
  }
  return { group: data.group, tab: 'events', event: typeof data.event === 'string' ? data.event : undefined };
}
