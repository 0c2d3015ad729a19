/**
 * PQXDH (Signal's specification, revision 3): the KDF with fixed inputs against known root and chain keys,
 * session round trips (one-time and last-resort ML-KEM prekeys, classical sessions beside them), and every
 * refusal with its typed error and no change to any store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  InMemorySessionStore,
  initCrypto,
  isCryptoError,
  KemKeyPair,
  KeyPair,
  MessageType,
  messageType,
  PQ_PRE_KEY_MESSAGE_VERSION,
  PreKeyBundle,
  type ProtocolAddress,
  processPreKeyBundle,
  SessionCipher,
  SessionRecord,
} from '../../src/crypto/index.ts';
import { x25519 } from '../../src/crypto/keys.ts';
import { PQXDH_INFO, x3dhInitiator, x3dhResponder } from '../../src/crypto/x3dh.ts';
import { type Device, hex, LAST_RESORT_PQ_ID, makeDevice, str, text, unhex } from './helpers.ts';

beforeAll(initCrypto);

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Everything a refusal must leave as it was: the stored session, the prekeys of both kinds, the identity. */
async function snapshot(device: Device, peer: ProtocolAddress) {
  return {
    session: device.stores.sessions.rawSession(peer),
    preKeys: device.stores.preKeys.size,
    pqPreKeys: device.stores.pqPreKeys.size,
    identity: (await device.stores.identities.getIdentity(peer))?.serialize(),
  };
}

describe('PQXDH KDF known answers', () => {
  // Fixed X25519 private keys and ML-KEM shared secret; the expected keys were computed independently with
  // node:crypto (X25519 + HKDF-SHA256 over 0xFF*32 || DH1 || DH2 || DH3 [|| DH4] || SS, 32 zero bytes of salt).
  const keys = {
    ikA: '1011111111111111111111111111111111111111111111111111111111111111',
    ekA: '2022222222222222222222222222222222222222222222222222222222222222',
    ikB: '3033333333333333333333333333333333333333333333333333333333333333',
    spkB: '4044444444444444444444444444444444444444444444444444444444444444',
    opkB: '5055555555555555555555555555555555555555555555555555555555555555',
  };
  const ss = unhex('a5'.repeat(32));
  const pub = (key: string) => KeyPair.fromPrivate(unhex(key)).publicKey.raw();
  const cases = [
    {
      name: 'with a one-time prekey',
      opk: true,
      root: 'cda66dd891ae92e6ed041c77138811b7e591b02b549a9b6097c5c36c4aac224d',
      chain: 'fcff40267cba4fef51b5bcd067074b40ca7e9a50b6e5c34565a79f94c2fecec4',
    },
    {
      name: 'without a one-time prekey',
      opk: false,
      root: 'addaf3ab7e23df72cf6fc143ed3bdbb6be2d10b2778027f050d35b4e4f0526f9',
      chain: '05332d5132aff813bdf7d09be13a4372690a4bd943bdf9a14a0195233d5c588c',
    },
  ];

  it('uses the PQXDH info string as libsignal spells it', () => {
    expect(PQXDH_INFO).toBe('WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024');
  });

  it.each(cases)('initiator and responder derive the known root and chain keys $name', ({ opk, root, chain }) => {
    const alice = x3dhInitiator({
      ourIdentity: (theirs) => x25519(unhex(keys.ikA), theirs),
      ourBasePrivateKey: unhex(keys.ekA),
      theirIdentity: pub(keys.ikB),
      theirSignedPreKey: pub(keys.spkB),
      theirOneTimePreKey: opk ? pub(keys.opkB) : undefined,
      kemSharedSecret: ss,
    });
    const bob = x3dhResponder({
      ourIdentity: (theirs) => x25519(unhex(keys.ikB), theirs),
      ourSignedPreKeyPrivateKey: unhex(keys.spkB),
      ourOneTimePreKeyPrivateKey: opk ? unhex(keys.opkB) : undefined,
      theirIdentity: pub(keys.ikA),
      theirBaseKey: pub(keys.ekA),
      kemSharedSecret: ss,
    });
    expect(hex(alice.rootKey)).toBe(root);
    expect(hex(alice.chainKey)).toBe(chain);
    expect(bob).toEqual(alice);
  });

  it('puts the KEM secret last and keeps X3DH without it', () => {
    const params = {
      ourIdentity: (theirs: Uint8Array) => x25519(unhex(keys.ikA), theirs),
      ourBasePrivateKey: unhex(keys.ekA),
      theirIdentity: pub(keys.ikB),
      theirSignedPreKey: pub(keys.spkB),
    };
    const classical = x3dhInitiator(params);
    expect(hex(classical.rootKey)).not.toBe(cases[1]?.root);
    const otherSecret = x3dhInitiator({ ...params, kemSharedSecret: unhex('5a'.repeat(32)) });
    expect(hex(otherSecret.rootKey)).not.toBe(cases[1]?.root);
  });

  it('derives the same keys end to end from a deterministic ML-KEM encapsulation', () => {
    const kem = KemKeyPair.fromSeed(unhex('07'.repeat(64)));
    const { ciphertext, sharedSecret } = kem.publicKey.encapsulate(unhex('09'.repeat(32)));
    expect(kem.decapsulate(ciphertext)).toEqual(sharedSecret);
    expect(
      hex(KemKeyPair.fromSeed(unhex('07'.repeat(64))).publicKey.encapsulate(unhex('09'.repeat(32))).sharedSecret),
    ).toBe(hex(sharedSecret));
  });
});

describe('PQXDH sessions', () => {
  it('agree with a one-time ML-KEM prekey, which the responder then deletes', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    const toBob = new SessionCipher(alice.stores, bob.address);
    expect(await toBob.sessionKind()).toBe('pqxdh');
    const first = await toBob.encrypt(text('hello, quantum world'));
    expect(first[0]).toBe(PQ_PRE_KEY_MESSAGE_VERSION);
    expect(messageType(first)).toBe(MessageType.PreKey);
    const before = bob.stores.pqPreKeys.size;
    const toAlice = new SessionCipher(bob.stores, alice.address);
    const opened = await toAlice.decrypt(first);
    expect(str(opened.plaintext)).toBe('hello, quantum world');
    expect(opened.newSession).toBe(true);
    expect(await toAlice.sessionKind()).toBe('pqxdh');
    expect(bob.stores.pqPreKeys.size).toBe(before - 1);
    expect(await bob.stores.pqPreKeys.loadPqPreKey(1)).toBeUndefined();
    const reply = await toAlice.encrypt(text('heard you'));
    expect(messageType(reply)).toBe(MessageType.Whisper);
    expect(str((await toBob.decrypt(reply)).plaintext)).toBe('heard you');
    // Answered: Alice sends plain SignalMessages now; the pending KEM ciphertext has left the record.
    expect(messageType(await toBob.encrypt(text('next')))).toBe(MessageType.Whisper);
  });

  it('agree with the last-resort ML-KEM prekey, which the responder keeps', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle(false, 'last-resort'));
    const first = await new SessionCipher(alice.stores, bob.address).encrypt(text('no one-time keys left'));
    const before = bob.stores.pqPreKeys.size;
    const opened = await new SessionCipher(bob.stores, alice.address).decrypt(first);
    expect(str(opened.plaintext)).toBe('no one-time keys left');
    expect(bob.stores.pqPreKeys.size).toBe(before);
    expect((await bob.stores.pqPreKeys.loadPqPreKey(LAST_RESORT_PQ_ID))?.lastResort).toBe(true);
  });

  it('keep classical X3DH sessions working beside them (the upgrade path)', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle(true, 'none'));
    const toBob = new SessionCipher(alice.stores, bob.address);
    expect(await toBob.sessionKind()).toBe('x3dh');
    const first = await toBob.encrypt(text('classical'));
    expect(first[0]).toBe(1);
    const toAlice = new SessionCipher(bob.stores, alice.address);
    expect(str((await toAlice.decrypt(first)).plaintext)).toBe('classical');
    expect(await toAlice.sessionKind()).toBe('x3dh');
    // A later session from a PQ bundle (a reinstall, a lost session) upgrades the pair.
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    expect(await toBob.sessionKind()).toBe('pqxdh');
    expect(str((await toAlice.decrypt(await toBob.encrypt(text('upgraded')))).plaintext)).toBe('upgraded');
    expect(await toAlice.sessionKind()).toBe('pqxdh');
  });

  it('keep the pending KEM ciphertext across a stored record until the responder answers', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    const toBob = new SessionCipher(alice.stores, bob.address);
    const one = await toBob.encrypt(text('one'));
    const raw = alice.stores.sessions.rawSession(bob.address) as Uint8Array;
    expect(SessionRecord.deserialize(raw).serialize()).toEqual(raw);
    const two = await toBob.encrypt(text('two'));
    const toAlice = new SessionCipher(bob.stores, alice.address);
    expect(str((await toAlice.decrypt(two)).plaintext)).toBe('two');
    expect(str((await toAlice.decrypt(one)).plaintext)).toBe('one');
  });

  it('round-trip a version 2 bundle with its PQ prekey', async () => {
    const bob = await makeDevice('bob');
    const bundle = bob.bundle();
    const copy = PreKeyBundle.deserialize(bundle.serialize());
    expect(copy.postQuantum).toBe(true);
    expect(copy.verifySignature()).toBe(true);
    expect(copy.pqPreKeyId).toBe(bundle.pqPreKeyId);
    expect(copy.pqPreKey?.raw()).toEqual(bundle.pqPreKey?.raw());
    expect(PreKeyBundle.deserialize(bob.bundle(true, 'none').serialize()).postQuantum).toBe(false);
  });
});

describe('PQXDH refusals change nothing', () => {
  it('a tampered KEM ciphertext: InvalidMessage, and the untouched message still opens', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    const first = await new SessionCipher(alice.stores, bob.address).encrypt(text('intact'));
    // version, type, registration id, has prekey, prekey id, signed prekey id, PQ prekey id: the ciphertext follows.
    const kemOffset = 1 + 1 + 4 + 1 + 4 + 4 + 4;
    const toAlice = new SessionCipher(bob.stores, alice.address);
    const before = await snapshot(bob, alice.address);
    for (const at of [kemOffset + 1, kemOffset + 700, kemOffset + 1568, kemOffset]) {
      const tampered = first.slice();
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      const error = await errorOf(toAlice.decrypt(tampered));
      expect(isCryptoError(error, CryptoErrorCode.InvalidMessage)).toBe(true);
      expect(await snapshot(bob, alice.address)).toEqual(before);
    }
    expect(str((await toAlice.decrypt(first)).plaintext)).toBe('intact');
  });

  it('a PQ prekey with a bad signature: InvalidSignature, no session and no identity stored', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    const good = bob.bundle();
    const signature = (good.pqPreKeySignature as Uint8Array).slice();
    signature[10] = (signature[10] ?? 0) ^ 0x80;
    const forged = PreKeyBundle.create({ ...good, pqPreKeySignature: signature });
    // A key swapped under a valid signature of another key is refused the same way.
    const swapped = PreKeyBundle.create({ ...good, pqPreKey: KemKeyPair.generate().publicKey });
    const before = await snapshot(alice, bob.address);
    for (const bundle of [forged, swapped]) {
      const error = await errorOf(processPreKeyBundle(alice.stores, bob.address, bundle));
      expect(isCryptoError(error, CryptoErrorCode.InvalidSignature)).toBe(true);
      expect(await snapshot(alice, bob.address)).toEqual(before);
    }
    expect(before.session).toBeUndefined();
  });

  it('a replayed one-time PQ prekey: InvalidKeyId for a second session; the replayed message is a duplicate', async () => {
    const alice = await makeDevice('alice');
    const carol = await makeDevice('carol');
    const bob = await makeDevice('bob');
    const bundle = bob.bundle();
    await processPreKeyBundle(alice.stores, bob.address, bundle);
    const first = await new SessionCipher(alice.stores, bob.address).encrypt(text('first use'));
    expect(str((await new SessionCipher(bob.stores, alice.address).decrypt(first)).plaintext)).toBe('first use');
    // The directory hands the same one-time PQ prekey out again (with a fresh classical one): Bob refuses.
    const again = PreKeyBundle.create({ ...bob.bundle(true, 'none'), ...pqOf(bundle) });
    await processPreKeyBundle(carol.stores, bob.address, again);
    const fromCarol = await new SessionCipher(carol.stores, bob.address).encrypt(text('second use'));
    const before = await snapshot(bob, carol.address);
    const error = await errorOf(new SessionCipher(bob.stores, carol.address).decrypt(fromCarol));
    expect(isCryptoError(error, CryptoErrorCode.InvalidKeyId)).toBe(true);
    expect(await snapshot(bob, carol.address)).toEqual(before);
    // The first message itself, replayed: recognised by its base key and refused as a duplicate.
    const beforeReplay = await snapshot(bob, alice.address);
    const replay = await errorOf(new SessionCipher(bob.stores, alice.address).decrypt(first));
    expect(isCryptoError(replay, CryptoErrorCode.DuplicateMessage)).toBe(true);
    expect(await snapshot(bob, alice.address)).toEqual(beforeReplay);
  });

  it('a first message on the last-resort PQ prekey replayed to a device that lost the session: DuplicateMessage', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    // No one-time prekey of either kind left: the bundle has the signed prekey and the last-resort PQ prekey.
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle(false, 'last-resort'));
    const first = await new SessionCipher(alice.stores, bob.address).encrypt(text('only once'));
    expect(str((await new SessionCipher(bob.stores, alice.address).decrypt(first)).plaintext)).toBe('only once');
    // Bob loses his sessions (a restored backup, a wiped store); an attacker replays the first message.
    const forgetful = { ...bob.stores, sessions: new InMemorySessionStore() };
    const before = { preKeys: bob.stores.preKeys.size, pqPreKeys: bob.stores.pqPreKeys.size };
    const error = await errorOf(new SessionCipher(forgetful, alice.address).decrypt(first));
    expect(isCryptoError(error, CryptoErrorCode.DuplicateMessage)).toBe(true);
    expect(forgetful.sessions.rawSession(alice.address)).toBeUndefined();
    expect({ preKeys: bob.stores.preKeys.size, pqPreKeys: bob.stores.pqPreKeys.size }).toEqual(before);
    // Another initiator on the same last-resort key is a different base key: accepted.
    const carol = await makeDevice('carol');
    await processPreKeyBundle(carol.stores, bob.address, bob.bundle(false, 'last-resort'));
    const fromCarol = await new SessionCipher(carol.stores, bob.address).encrypt(text('me too'));
    expect(str((await new SessionCipher(forgetful, carol.address).decrypt(fromCarol)).plaintext)).toBe('me too');
  });

  it('a downgraded bundle: PostQuantumDowngrade after a PQXDH session, or when the caller requires PQ', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    const before = await snapshot(alice, bob.address);
    const downgraded = await errorOf(processPreKeyBundle(alice.stores, bob.address, bob.bundle(true, 'none')));
    expect(isCryptoError(downgraded, CryptoErrorCode.PostQuantumDowngrade)).toBe(true);
    expect(await snapshot(alice, bob.address)).toEqual(before);

    const carol = await makeDevice('carol');
    const fresh = await snapshot(alice, carol.address);
    const required = await errorOf(
      processPreKeyBundle(alice.stores, carol.address, carol.bundle(true, 'none'), { requirePostQuantum: true }),
    );
    expect(isCryptoError(required, CryptoErrorCode.PostQuantumDowngrade)).toBe(true);
    expect(await snapshot(alice, carol.address)).toEqual(fresh);
    // Without either reason a classical bundle is fine (a device that never published a PQ prekey).
    await processPreKeyBundle(alice.stores, carol.address, carol.bundle(true, 'none'));
    expect(await new SessionCipher(alice.stores, carol.address).sessionKind()).toBe('x3dh');
  });

  it('a mismatched PQ prekey id: InvalidMessage for another key of ours, InvalidKeyId for an unknown one', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    const bundle = bob.bundle();
    // Ids are not signed (as in Signal): the key of #1 announced as #2, and as #77 which Bob never had.
    for (const [id, code] of [
      [2, CryptoErrorCode.InvalidMessage],
      [77, CryptoErrorCode.InvalidKeyId],
    ] as const) {
      const relabelled = PreKeyBundle.create({ ...bundle, pqPreKeyId: id });
      const sender = await makeDevice(`sender${id}`);
      await processPreKeyBundle(sender.stores, bob.address, relabelled);
      const message = await new SessionCipher(sender.stores, bob.address).encrypt(text('which key?'));
      const before = await snapshot(bob, sender.address);
      const error = await errorOf(new SessionCipher(bob.stores, sender.address).decrypt(message));
      expect(isCryptoError(error, code)).toBe(true);
      expect(await snapshot(bob, sender.address)).toEqual(before);
    }
    expect(await bob.stores.pqPreKeys.loadPqPreKey(2)).toBeDefined();
    await processPreKeyBundle(alice.stores, bob.address, bundle);
    const honest = await new SessionCipher(alice.stores, bob.address).encrypt(text('the right key'));
    expect(str((await new SessionCipher(bob.stores, alice.address).decrypt(honest)).plaintext)).toBe('the right key');
  });
});

function pqOf(bundle: PreKeyBundle) {
  return { pqPreKeyId: bundle.pqPreKeyId, pqPreKey: bundle.pqPreKey, pqPreKeySignature: bundle.pqPreKeySignature };
}
