import { randomBytes, randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { ApiClient, registered } from './api.ts';
import { deviceKeys } from './device-keys.ts';
import { closed, openSocket } from './stack.ts';

type Frame = Record<string, unknown>;

/** One signed-in device with an open socket: what it received, and requests answered by `ack` or `error`. */
export class LiveDevice {
  readonly received: Frame[] = [];
  readonly #waiters = new Set<{ test: (frame: Frame) => boolean; resolve: (frame: Frame) => void }>();

  constructor(
    readonly userId: string,
    readonly deviceId: number,
    readonly client: ApiClient,
    readonly socket: WebSocket,
  ) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.received.push(frame);
      for (const waiter of this.#waiters) {
        if (waiter.test(frame)) {
          this.#waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
  }

  get address() {
    return { userId: this.userId, deviceId: this.deviceId };
  }

  /** The first frame (already received or still to come) that passes `test`. */
  waitFor(test: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.received.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching frame in ${timeoutMs} ms; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends a frame with a fresh id and waits for its answer (`ack` or `error`). */
  async request(frame: Frame): Promise<Frame> {
    const id = (frame.id as string | undefined) ?? randomUUID();
    this.socket.send(JSON.stringify({ ...frame, id }));
    return this.waitFor((answer) => answer.id === id && (answer.type === 'ack' || answer.type === 'error'));
  }

  /** Frames of `type` received so far. */
  ofType(type: string): Frame[] {
    return this.received.filter((frame) => frame.type === type);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) return;
    const done = closed(this.socket);
    this.socket.close();
    await done;
  }
}

/** A user who can sign in more devices, each with its own session, keys and socket. */
export async function liveUser(restUrl: string, wsUrl: string, label: string) {
  const account = await registered(restUrl, label);
  let first = true;
  const device = async (name = 'Laptop'): Promise<LiveDevice> => {
    const client = first ? account.client : new ApiClient(restUrl);
    if (!first) {
      const login = await client.post('/auth/login', { email: account.email, password: account.password });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
    }
    first = false;
    const registeredDevice = await client.post('/devices', (await deviceKeys({ preKeys: 1 })).body(name));
    if (registeredDevice.status !== 201) throw new Error(`device: ${registeredDevice.status} ${registeredDevice.text}`);
    const deviceId = (registeredDevice.body.device as { deviceId: number }).deviceId;
    const ticket = await client.post('/auth/ws-ticket');
    if (ticket.status !== 200) throw new Error(`ws-ticket failed: ${ticket.status} ${ticket.text}`);
    const socket = await openSocket(`${wsUrl}?ticket=${ticket.body.ticket as string}`);
    return new LiveDevice(account.userId, deviceId, client, socket);
  };
  return { ...account, device };
}

/** Opaque "ciphertext": the server must carry it untouched, so each is unique and recognisable. */
export const fakeCiphertext = () => randomBytes(48).toString('base64');

/** One pairwise envelope per device. */
export const envelopesFor = (devices: readonly { userId: string; deviceId: number }[]) =>
  devices.map((device) => ({ ...device, type: 'signal' as const, ciphertext: fakeCiphertext() }));

/** Resolves after `ms`: for checks that something did NOT arrive. */
export const quietFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
