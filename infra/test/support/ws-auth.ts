import { registered } from './api.ts';
import { deviceKeys } from './device-keys.ts';

/** A user with a registered device, and a way to get single-use WebSocket URLs for it. */
export async function deviceSession(restUrl: string, wsUrl: string, label = 'ws') {
  const account = await registered(restUrl, label);
  const device = await account.client.post('/devices', (await deviceKeys({ preKeys: 1 })).body(`${label} device`));
  if (device.status !== 201) throw new Error(`device registration failed: ${device.status} ${device.text}`);
  const deviceId = (device.body.device as { deviceId: number }).deviceId;
  const ticketUrl = async (extra = '') => {
    const answer = await account.client.post('/auth/ws-ticket');
    if (answer.status !== 200) throw new Error(`ws-ticket failed: ${answer.status} ${answer.text}`);
    return `${wsUrl}?ticket=${answer.body.ticket as string}${extra}`;
  };
  return { ...account, deviceId, ticketUrl };
}
