/**
 * Sending (Signal-Desktop's `OutgoingMessage`): a content item's plaintext encrypted for the conversation's
 * devices and stored on the server.
 *
 * - Targets: every live device of every member, ours included, but this one (`fanOutAddresses`).
 * - Direct conversations: one pairwise envelope per target (`encryptForDevices`; a session is made from the
 *   device's prekey bundle when there is none).
 * - Groups: Sender Keys. A target lacking our key first gets a pairwise `sender_key` message (to all targets,
 *   as the server wants pairwise traffic to reach every device); a device our key went to that is no longer a
 *   target makes us rotate the key first. Rotation, distribution and encryption run under one lock per group.
 * - `409 devices_changed`: the device lists of the users it names are read again, sessions of `extra` devices
 *   dropped, and the same `clientMessageId` sent again (up to 4 attempts).
 * - Transport: `message.send` over the WebSocket when connected and the frame fits API Gateway's 32 KB, else
 *   REST. Both are idempotent on clientMessageId.
 */
import {
  createSenderKeyDistributionMessage,
  type DeviceCiphertext,
  encryptForDevices,
  fanOutAddresses,
  groupEncrypt,
  IdentityKey,
  MessageType,
  messageType,
  PreKeyBundle,
  type PreKeyDirectory,
  ProtocolAddress,
  PublicKey,
  rotateSenderKey,
} from '@ciphertalk/shared/crypto';
import type {
  Envelope,
  PreKeyBundle as PreKeyBundleJson,
  SendMessageRequest,
  SendMessageResponse,
} from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { type Content, encodeContent } from './content.ts';
import type { Directory } from './directory.ts';
import { type EngineError, isEngineError } from './errors.ts';
import type { DeviceStores } from './keystore.ts';
import type { LocalStore } from './local-store.ts';
import { pqBundleFields, startSession } from './pq-keys.ts';
import type { Socket } from './socket.ts';

export const SEND_ATTEMPTS = 4;
/** API Gateway refuses WebSocket frames over 32 KB: bigger messages go over REST. */
export const WS_SEND_MAX_CHARS = 30_000;

export interface SenderDeps {
  readonly api: ApiClient;
  readonly socket: () => Socket | null;
  readonly directory: Directory;
  readonly store: LocalStore;
  readonly stores: DeviceStores;
  /** This device. */
  readonly me: ProtocolAddress;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
  readonly newId?: () => string;
}

/** A prekey bundle as the crypto library takes it. */
export function bundleOf(json: PreKeyBundleJson): PreKeyBundle {
  return PreKeyBundle.create({
    registrationId: json.registrationId,
    deviceId: json.deviceId,
    identityKey: IdentityKey.deserialize(fromBase64(json.identityKey)),
    signedPreKeyId: json.signedPreKey.keyId,
    signedPreKey: PublicKey.deserialize(fromBase64(json.signedPreKey.publicKey)),
    signedPreKeySignature: fromBase64(json.signedPreKey.signature),
    preKeyId: json.preKey?.keyId,
    preKey: json.preKey ? PublicKey.deserialize(fromBase64(json.preKey.publicKey)) : undefined,
    ...pqBundleFields(json),
  });
}

/** The key directory as the crypto library sees it: one claimed bundle per device. */
export function keyDirectory(api: ApiClient): PreKeyDirectory {
  return {
    async fetchBundle(address) {
      const { bundle } = await api.call('GET /users/{userId}/devices/{deviceId}/prekey-bundle', {
        path: { userId: address.name, deviceId: address.deviceId },
      });
      return bundleOf(bundle);
    },
  };
}

const envelopeOf = ({ address, body }: DeviceCiphertext): Envelope => ({
  userId: address.name,
  deviceId: address.deviceId,
  type: messageType(body) === MessageType.PreKey ? 'prekey' : 'signal',
  ciphertext: toBase64(body),
});

export class Sender {
  readonly #deps: SenderDeps;
  readonly #directory: PreKeyDirectory;
  readonly #groupLocks = new Map<string, Promise<unknown>>();

  constructor(deps: SenderDeps) {
    this.#deps = deps;
    this.#directory = keyDirectory(deps.api);
  }

  /** Encrypts `plaintext` for the conversation's devices and stores it on the server. */
  async send(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    const conv = await this.#deps.directory.conversation(conversationId);
    return conv.kind === 'direct'
      ? this.#sendPairwise(conversationId, plaintext, clientMessageId, attachmentIds)
      : this.#sendGroup(conversationId, plaintext, clientMessageId, attachmentIds);
  }

  /** One pairwise envelope per device (made from its prekey bundle when there is no session). */
  async seal(addresses: readonly ProtocolAddress[], plaintext: Uint8Array): Promise<Envelope[]> {
    const { store, stores, me } = this.#deps;
    const sealed = await encryptForDevices({
      stores,
      sender: me,
      recipientDevices: addresses,
      plaintext,
      directory: this.#directory,
      // Missing sessions start through PQXDH's downgrade check.
      startSession: (address, bundle) => startSession(store, stores, address, bundle),
    });
    return sealed.map(envelopeOf);
  }

  /** The requester of a resend may lack our sender key: the next group send distributes it again. */
  async redistributeTo(conversationId: string, device: ProtocolAddress): Promise<void> {
    const { store } = this.#deps;
    if (!(await store.group(conversationId))) return;
    await this.#withGroupLock(conversationId, async () => {
      const current = await store.group(conversationId);
      if (!current) return;
      const requester = device.toString();
      await store.setGroup(conversationId, { distributedTo: current.distributedTo.filter((d) => d !== requester) });
    });
  }

  /** Every device of every member but this one. */
  async #targets(conversationId: string): Promise<ProtocolAddress[]> {
    const { directory, me } = this.#deps;
    const theirs: ProtocolAddress[] = [];
    const ours: ProtocolAddress[] = [];
    for (const userId of directory.memberIds(conversationId)) {
      for (const device of await directory.devicesOf(userId)) {
        (userId === me.name ? ours : theirs).push(ProtocolAddress.of(userId, device.deviceId));
      }
    }
    return fanOutAddresses(me, theirs, ours);
  }

  /** After a 409: forget the device lists of the users it names (and the sessions of devices that left). */
  async #devicesChanged(conversationId: string, error: EngineError): Promise<void> {
    const { directory, stores } = this.#deps;
    const users = new Set<string>();
    const { missing, extra } = error.devices ?? { missing: [], extra: [] };
    for (const device of missing) users.add(device.userId);
    for (const device of extra) {
      users.add(device.userId);
      await stores.sessions.deleteSession(ProtocolAddress.of(device.userId, device.deviceId));
    }
    if (users.size === 0) for (const userId of directory.memberIds(conversationId)) users.add(userId);
    directory.forgetDevices(users);
    // Membership may have changed too.
    await directory.reload(conversationId);
    this.#deps.log('devices.changed', { conversationId, missing: missing.length, extra: extra.length });
  }

  /** Posts, and after a 409 learns the devices and builds the message again, up to SEND_ATTEMPTS times. */
  async #withDeviceRetries(
    conversationId: string,
    build: (targets: ProtocolAddress[]) => Promise<SendMessageRequest>,
  ): Promise<SendMessageResponse> {
    for (let attempt = 1; ; attempt++) {
      const message = await build(await this.#targets(conversationId));
      try {
        return await this.#post(conversationId, message);
      } catch (error) {
        if (!isEngineError(error, 'devices_changed') || attempt >= SEND_ATTEMPTS) throw error;
        await this.#devicesChanged(conversationId, error);
      }
    }
  }

  #sendPairwise(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    // Envelopes made for an attempt are kept for the next: only devices new to the list are encrypted for.
    const envelopes = new Map<string, Envelope>();
    return this.#withDeviceRetries(conversationId, async (targets) => {
      const wanted = new Set(targets.map((t) => t.toString()));
      for (const key of envelopes.keys()) if (!wanted.has(key)) envelopes.delete(key);
      const fresh = targets.filter((t) => !envelopes.has(t.toString()));
      for (const envelope of await this.seal(fresh, plaintext)) {
        envelopes.set(ProtocolAddress.of(envelope.userId, envelope.deviceId).toString(), envelope);
      }
      return {
        clientMessageId,
        ...(attachmentIds ? { attachmentIds } : {}),
        envelopes: targets.map((t) => envelopes.get(t.toString()) as Envelope),
      };
    });
  }

  #sendGroup(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    let ciphertext: string | null = null;
    return this.#withDeviceRetries(conversationId, async (targets) => {
      ciphertext = await this.#withGroupLock(conversationId, () =>
        this.#groupCiphertext(conversationId, targets, plaintext, ciphertext),
      );
      return {
        clientMessageId,
        ...(attachmentIds ? { attachmentIds } : {}),
        senderKeyCiphertext: ciphertext,
        recipients: targets.map((t) => ({ userId: t.name, deviceId: t.deviceId })),
      };
    });
  }

  /** Under the group's lock: rotate when someone left, distribute to whoever lacks the key, encrypt. */
  async #groupCiphertext(
    conversationId: string,
    targets: ProtocolAddress[],
    plaintext: Uint8Array,
    previous: string | null,
  ): Promise<string> {
    const { store, stores, me, log } = this.#deps;
    let group = (await store.group(conversationId)) ?? { distributedTo: [] };
    let encrypted = previous;
    const wanted = new Set(targets.map((t) => t.toString()));
    if (group.distributedTo.some((address) => !wanted.has(address))) {
      // A member left (or a device was revoked) since our key went out: a fresh chain and signing key,
      // for the remaining devices only, so whoever left can read and forge nothing that follows.
      await rotateSenderKey(stores.senderKeys, me, conversationId);
      group = { distributedTo: [] };
      await store.setGroup(conversationId, group);
      log('sender_key.rotated', { conversationId });
      encrypted = null;
    }
    const lacking = targets.filter((t) => !group.distributedTo.includes(t.toString()));
    if (lacking.length > 0) {
      // The server wants pairwise traffic to reach every device, so the distribution goes to all of them.
      const distribution = await createSenderKeyDistributionMessage(stores.senderKeys, me, conversationId);
      const newId = this.#deps.newId ?? (() => globalThis.crypto.randomUUID());
      const content: Content = { v: 1, id: newId(), kind: 'sender_key', distribution: toBase64(distribution) };
      await this.#sendPairwise(conversationId, encodeContent(content), newId());
      await store.setGroup(conversationId, { distributedTo: targets.map((t) => t.toString()) });
      log('sender_key.distributed', { conversationId, devices: targets.length });
      // The distribution starts at the chain's current iteration: a ciphertext made earlier would be behind it.
      encrypted = null;
    }
    return encrypted ?? toBase64(await groupEncrypt(stores.senderKeys, me, conversationId, plaintext));
  }

  /**
   * Stores a message: over the WebSocket (`message.send`) when connected and the frame fits API Gateway's
   * 32 KB, else (or when the socket drops or times out) over REST. Both are idempotent on clientMessageId.
   */
  async #post(conversationId: string, message: SendMessageRequest): Promise<SendMessageResponse> {
    const socket = this.#deps.socket();
    if (socket?.online && JSON.stringify(message).length < WS_SEND_MAX_CHARS) {
      try {
        const ack = await socket.request({ action: 'message.send', conversationId, message });
        if (ack.seq !== undefined && ack.createdAt !== undefined) {
          this.#deps.log('message.via_ws', { conversationId, seq: ack.seq });
          return { seq: ack.seq, createdAt: ack.createdAt };
        }
      } catch (error) {
        if (!isEngineError(error, 'offline') && !isEngineError(error, 'timeout')) throw error;
      }
    }
    const stored = await this.#deps.api.call('POST /conversations/{conversationId}/messages', {
      path: { conversationId },
      body: message,
    });
    this.#deps.log('message.via_rest', { conversationId, seq: stored.seq });
    return stored;
  }

  /** One sender-key operation per group at a time: rotation, distribution and encryption must not interleave. */
  #withGroupLock<T>(conversationId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#groupLocks.get(conversationId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.#groupLocks.set(conversationId, tail);
    void tail.then(() => {
      if (this.#groupLocks.get(conversationId) === tail) this.#groupLocks.delete(conversationId);
    });
    return run;
  }
}
