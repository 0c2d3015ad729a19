/**
 * Test doubles for the engine's stages: a REST client answering from handlers by route key (checked against
 * the contract like the real one), a peer device with its own in-memory store, and a directory over them.
 */
import {
  IdentityKeyPair,
  PqPreKeyRecord,
  PreKeyRecord,
  ProtocolAddress,
  SignedPreKeyRecord,
} from '@ciphertalk/shared/crypto';
import type { Conversation, PreKeyBundle as PreKeyBundleJson, PublicDevice } from '@ciphertalk/shared/protocol';
import type { ApiClient, CallInput, CallOutput, RouteKey } from '../../src/engine/api-client.ts';
import { toBase64 } from '../../src/engine/base64.ts';
import { Directory } from '../../src/engine/directory.ts';
import { type LocalStore, memoryStore } from '../../src/engine/local-store.ts';

type Handlers = { [K in RouteKey]?: (input: CallInput<K>) => CallOutput<K> | Promise<CallOutput<K>> };

export interface FakeApi extends ApiClient {
  readonly calls: { key: RouteKey; input: unknown }[];
}

/** An ApiClient whose routes are the given handlers; a route without one is a test failure. */
export function fakeApi(handlers: Handlers): FakeApi {
  const calls: { key: RouteKey; input: unknown }[] = [];
  return {
    calls,
    async call(key: RouteKey, input?: unknown) {
      calls.push({ key, input });
      const handler = handlers[key] as ((input: unknown) => unknown) | undefined;
      if (!handler) throw new Error(`unexpected call ${key}`);
      return handler(input ?? {});
    },
  } as unknown as FakeApi;
}

export interface Peer {
  readonly address: ProtocolAddress;
  readonly store: LocalStore;
  readonly stores: ReturnType<LocalStore['cryptoStores']>;
  readonly identity: IdentityKeyPair;
  readonly device: PublicDevice;
  /** A bundle as the key directory hands it out, consuming a one-time prekey. */
  bundle(): PreKeyBundleJson;
}

let registration = 1;

export async function peer(userId: string, deviceId: number): Promise<Peer> {
  const identity = IdentityKeyPair.generate();
  const registrationId = registration++;
  const store = memoryStore();
  const stores = store.cryptoStores(identity, registrationId);
  const signed = SignedPreKeyRecord.generate(1, identity);
  await stores.signedPreKeys.storeSignedPreKey(1, signed);
  const preKeys: PreKeyRecord[] = [];
  for (let id = 1; id <= 10; id++) {
    const preKey = PreKeyRecord.generate(id);
    preKeys.push(preKey);
    await stores.preKeys.storePreKey(id, preKey);
  }
  // Post-quantum, like every current client: one-time ML-KEM prekeys, then the last-resort one.
  const pqPreKeys: PqPreKeyRecord[] = [];
  for (let id = 1; id <= 3; id++) {
    const pqPreKey = PqPreKeyRecord.generate(id, identity);
    pqPreKeys.push(pqPreKey);
    await stores.pqPreKeys.storePqPreKey(id, pqPreKey);
  }
  const lastResort = PqPreKeyRecord.generate(4, identity, { lastResort: true });
  await stores.pqPreKeys.storePqPreKey(4, lastResort);
  const identityKey = toBase64(identity.publicKey.serialize());
  return {
    address: ProtocolAddress.of(userId, deviceId),
    store,
    stores,
    identity,
    device: {
      deviceId,
      identityKey,
      registrationId,
      postQuantum: true,
    } satisfies PublicDevice,
    bundle() {
      const preKey = preKeys.shift();
      const pq = pqPreKeys.shift() ?? lastResort;
      return {
        userId,
        registrationId,
        deviceId,
        identityKey,
        signedPreKey: {
          keyId: 1,
          publicKey: toBase64(signed.keyPair.publicKey.serialize()),
          signature: toBase64(signed.signature),
        },
        preKey: preKey ? { keyId: preKey.id, publicKey: toBase64(preKey.keyPair.publicKey.serialize()) } : null,
        pqPreKey: {
          keyId: pq.id,
          publicKey: toBase64(pq.keyPair.publicKey.serialize()),
          signature: toBase64(pq.signature),
          lastResort: pq.lastResort,
        },
      } satisfies PreKeyBundleJson;
    },
  };
}

export function conversation(id: string, kind: 'direct' | 'group', memberIds: string[]): Conversation {
  return {
    id,
    kind,
    name: kind === 'group' ? 'Group' : null,
    role: 'owner',
    lastSeq: 0,
    unreadCount: 0,
    lastActivityAt: '2026-01-01T00:00:00.000Z',
    members: memberIds.map((userId) => ({
      userId,
      displayName: `Name of ${userId}`,
      role: 'member',
      joinedAt: '2026-01-01T00:00:00.000Z',
      lastReadSeq: 0,
    })),
  } as unknown as Conversation;
}

/** A directory knowing `conversations`, over `api`. */
export function directoryOf(api: ApiClient, userId: string, conversations: Conversation[]): Directory {
  const directory = new Directory({
    api,
    userId,
    log: () => undefined,
    onChange: () => undefined,
    onDevices: async () => undefined,
  });
  for (const conv of conversations) directory.adopt(conv);
  return directory;
}
