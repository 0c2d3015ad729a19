import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  IdentityKeyPair,
  initCrypto,
  isCryptoError,
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  MessageType,
  messageType,
  PreKeyBundle,
  processPreKeyBundle,
  SessionCipher,
  SessionRecord,
  SignedPreKeyRecord,
} from '../../src/crypto/index.ts';
import { makeDevice, str, text } from './helpers.ts';

beforeAll(initCrypto);

async function expectCode(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCryptoError(error) ? error.code : error).toBe(code);
}

async function pair(withPreKey = true) {
  const alice = await makeDevice('alice');
  const bob = await makeDevice('bob');
  await processPreKeyBundle(alice.stores, bob.address, bob.bundle(withPreKey));
  return {
    alice,
    bob,
    aliceToBob: new SessionCipher(alice.stores, bob.address),
    bobFromAlice: new SessionCipher(bob.stores, alice.address),
  };
}

async function roundTrip(from: SessionCipher, to: SessionCipher, message: string): Promise<string> {
  return str((await to.decrypt(await from.encrypt(text(message)))).plaintext);
}

describe('X3DH session set-up', () => {
  for (const withPreKey of [true, false]) {
    it(`completes ${withPreKey ? 'with' : 'without'} a one-time prekey and carries the first message`, async () => {
      const { bob, aliceToBob, bobFromAlice } = await pair(withPreKey);
      const first = await aliceToBob.encrypt(text('hello bob'));
      expect(messageType(first)).toBe(MessageType.PreKey);
      const result = await bobFromAlice.decrypt(first);
      expect(str(result.plaintext)).toBe('hello bob');
      expect(result.newSession).toBe(true);
      expect(bob.stores.preKeys.size).toBe(withPreKey ? 4 : 5);

      // Bob answers with a plain message; once Alice has it she stops sending prekey messages.
      const reply = await bobFromAlice.encrypt(text('hi alice'));
      expect(messageType(reply)).toBe(MessageType.Whisper);
      expect(str((await aliceToBob.decrypt(reply)).plaintext)).toBe('hi alice');
      expect(messageType(await aliceToBob.encrypt(text('again')))).toBe(MessageType.Whisper);
    });
  }

  it('keeps sending prekey messages until the first reply, and each decrypts once', async () => {
    const { aliceToBob, bobFromAlice } = await pair();
    const m1 = await aliceToBob.encrypt(text('one'));
    const m2 = await aliceToBob.encrypt(text('two'));
    expect(messageType(m2)).toBe(MessageType.PreKey);
    expect(str((await bobFromAlice.decrypt(m2)).plaintext)).toBe('two');
    const late = await bobFromAlice.decrypt(m1);
    expect(str(late.plaintext)).toBe('one');
    expect(late.newSession).toBe(false);
    await expectCode(bobFromAlice.decrypt(m1), CryptoErrorCode.DuplicateMessage);
  });

  it('rejects a bundle whose signed prekey signature does not verify', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    const good = bob.bundle();
    const forged = PreKeyBundle.create({
      registrationId: good.registrationId,
      deviceId: good.deviceId,
      identityKey: good.identityKey,
      signedPreKeyId: good.signedPreKeyId,
      signedPreKey: good.signedPreKey,
      signedPreKeySignature: IdentityKeyPair.generate().sign(good.signedPreKey.serialize()),
      preKeyId: good.preKeyId,
      preKey: good.preKey,
    });
    await expectCode(processPreKeyBundle(alice.stores, bob.address, forged), CryptoErrorCode.InvalidSignature);
    expect(await new SessionCipher(alice.stores, bob.address).hasSession()).toBe(false);
  });

  it('round-trips a prekey bundle through its byte form', async () => {
    const bob = await makeDevice('bob');
    for (const bundle of [bob.bundle(true), bob.bundle(false)]) {
      const copy = PreKeyBundle.deserialize(bundle.serialize());
      expect(copy.serialize()).toEqual(bundle.serialize());
      expect(copy.verifySignature()).toBe(true);
      expect(copy.preKeyId).toBe(bundle.preKeyId);
    }
  });

  it('refuses a changed identity key until the user accepts it', async () => {
    const { alice, bob, aliceToBob, bobFromAlice } = await pair();
    await bobFromAlice.decrypt(await aliceToBob.encrypt(text('hi')));
    // Bob re-installs: new identity, new prekeys, same address.
    const newBob = await makeDevice('bob');
    await expectCode(
      processPreKeyBundle(alice.stores, bob.address, newBob.bundle()),
      CryptoErrorCode.UntrustedIdentity,
    );
    expect(await alice.stores.identities.saveIdentity(bob.address, newBob.identity.publicKey)).toBe(true);
    await processPreKeyBundle(alice.stores, bob.address, newBob.bundle());
    const cipher = new SessionCipher(newBob.stores, alice.address);
    expect(str((await cipher.decrypt(await aliceToBob.encrypt(text('welcome back')))).plaintext)).toBe('welcome back');
  });

  it('rejects a prekey message from a known address with a different identity', async () => {
    const { bob, aliceToBob, bobFromAlice } = await pair();
    await bobFromAlice.decrypt(await aliceToBob.encrypt(text('hi')));
    const mallory = await makeDevice('alice');
    await processPreKeyBundle(mallory.stores, bob.address, bob.bundle());
    const forged = await new SessionCipher(mallory.stores, bob.address).encrypt(text('it is me, alice'));
    await expectCode(bobFromAlice.decrypt(forged), CryptoErrorCode.UntrustedIdentity);
  });

  it('reports a used-up one-time prekey as an unknown key id', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob', 1, 1);
    const bundle = bob.bundle();
    await bob.stores.preKeys.removePreKey(bundle.preKeyId ?? 0);
    await processPreKeyBundle(alice.stores, bob.address, bundle);
    const message = await new SessionCipher(alice.stores, bob.address).encrypt(text('x'));
    await expectCode(new SessionCipher(bob.stores, alice.address).decrypt(message), CryptoErrorCode.InvalidKeyId);
  });

  it('keeps sessions across a signed prekey rotation and refuses a retired signed prekey', async () => {
    const alice = await makeDevice('alice');
    const carol = await makeDevice('carol');
    const bob = await makeDevice('bob');
    const fetchedBeforeRotation = [bob.bundle(), bob.bundle()];
    // Bob rotates: signed prekey 2 is published, 1 is kept for a grace period.
    const next = SignedPreKeyRecord.generate(2, bob.identity);
    await bob.stores.signedPreKeys.storeSignedPreKey(next.id, next);
    await processPreKeyBundle(alice.stores, bob.address, fetchedBeforeRotation[0] as PreKeyBundle);
    const fromAlice = await new SessionCipher(alice.stores, bob.address).encrypt(text('old signed prekey'));
    expect(str((await new SessionCipher(bob.stores, alice.address).decrypt(fromAlice)).plaintext)).toBe(
      'old signed prekey',
    );
    // After the grace period Bob deletes signed prekey 1: a late set-up on it is refused.
    await bob.stores.signedPreKeys.removeSignedPreKey(1);
    await processPreKeyBundle(carol.stores, bob.address, fetchedBeforeRotation[1] as PreKeyBundle);
    const fromCarol = await new SessionCipher(carol.stores, bob.address).encrypt(text('too late'));
    await expectCode(new SessionCipher(bob.stores, carol.address).decrypt(fromCarol), CryptoErrorCode.InvalidKeyId);
    // The session built before the deletion is unaffected.
    const again = await new SessionCipher(alice.stores, bob.address).encrypt(text('still here'));
    expect(str((await new SessionCipher(bob.stores, alice.address).decrypt(again)).plaintext)).toBe('still here');
  });

  it('cannot encrypt without a session', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await expectCode(new SessionCipher(alice.stores, bob.address).encrypt(text('x')), CryptoErrorCode.NoSession);
  });
});

describe('Double Ratchet', () => {
  async function established() {
    const p = await pair();
    await roundTrip(p.aliceToBob, p.bobFromAlice, 'setup');
    await roundTrip(p.bobFromAlice, p.aliceToBob, 'ack');
    return p;
  }

  it('decrypts out-of-order messages within and across ratchet turns', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    const a = [await aliceToBob.encrypt(text('a0')), await aliceToBob.encrypt(text('a1'))];
    const b0 = await bobFromAlice.encrypt(text('b0'));
    expect(str((await aliceToBob.decrypt(b0)).plaintext)).toBe('b0');
    const a2 = await aliceToBob.encrypt(text('a2')); // new ratchet key
    expect(str((await bobFromAlice.decrypt(a2)).plaintext)).toBe('a2');
    expect(str((await bobFromAlice.decrypt(a[1] as Uint8Array)).plaintext)).toBe('a1');
    expect(str((await bobFromAlice.decrypt(a[0] as Uint8Array)).plaintext)).toBe('a0');
  });

  it('rejects a replayed message as a duplicate and leaves the session working', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    const m = await aliceToBob.encrypt(text('once'));
    await bobFromAlice.decrypt(m);
    await expectCode(bobFromAlice.decrypt(m), CryptoErrorCode.DuplicateMessage);
    expect(await roundTrip(aliceToBob, bobFromAlice, 'still fine')).toBe('still fine');
  });

  it('rejects every single-byte modification without changing the state', async () => {
    const { bob, alice, aliceToBob, bobFromAlice } = await established();
    const m = await aliceToBob.encrypt(text('integrity'));
    const before = bob.stores.sessions.rawSession(alice.address);
    for (let i = 0; i < m.length; i++) {
      const tampered = m.slice();
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const error = await bobFromAlice.decrypt(tampered).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCryptoError(error), `byte ${i}`).toBe(true);
    }
    expect(bob.stores.sessions.rawSession(alice.address)).toEqual(before);
    expect(str((await bobFromAlice.decrypt(m)).plaintext)).toBe('integrity');
  });

  it('skips up to the forward-jump bound and no further', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    // Forge the counter: the AEAD check comes after skipping, so check the error code for a too-large gap
    // without generating 25,000 real messages.
    const m = await aliceToBob.encrypt(text('x'));
    const header = new DataView(m.buffer, m.byteOffset);
    header.setUint32(34, MAX_FORWARD_JUMPS + 10);
    await expectCode(bobFromAlice.decrypt(m), CryptoErrorCode.TooManySkippedMessages);

    const sent: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) sent.push(await aliceToBob.encrypt(text(`m${i}`)));
    expect(str((await bobFromAlice.decrypt(sent[299] as Uint8Array)).plaintext)).toBe('m299');
    expect(str((await bobFromAlice.decrypt(sent[1] as Uint8Array)).plaintext)).toBe('m1');
  });

  it('keeps at most MAX_MESSAGE_KEYS skipped keys, dropping the oldest', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    const sent: Uint8Array[] = [];
    for (let i = 0; i < MAX_MESSAGE_KEYS + 10; i++) sent.push(await aliceToBob.encrypt(text(`m${i}`)));
    await bobFromAlice.decrypt(sent[MAX_MESSAGE_KEYS + 9] as Uint8Array);
    // Keys 0..8 were dropped (2,009 skipped > 2,000); key 9 onwards are kept.
    await expectCode(bobFromAlice.decrypt(sent[8] as Uint8Array), CryptoErrorCode.DuplicateMessage);
    expect(str((await bobFromAlice.decrypt(sent[9] as Uint8Array)).plaintext)).toBe('m9');
  });

  it('keeps the keys of a chain left behind by a ratchet turn for the messages still in flight', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    await bobFromAlice.decrypt(await aliceToBob.encrypt(text('a0'))); // Bob now follows Alice's chain
    const a1 = await aliceToBob.encrypt(text('a1'));
    const a2 = await aliceToBob.encrypt(text('a2'));
    await aliceToBob.decrypt(await bobFromAlice.encrypt(text('turn'))); // Alice turns her ratchet
    // Alice's next message is on a new chain and says the old one ended after 3 messages; Bob closes it.
    expect(str((await bobFromAlice.decrypt(await aliceToBob.encrypt(text('next')))).plaintext)).toBe('next');
    expect(str((await bobFromAlice.decrypt(a2)).plaintext)).toBe('a2');
    expect(str((await bobFromAlice.decrypt(a1)).plaintext)).toBe('a1');
    await expectCode(bobFromAlice.decrypt(a1), CryptoErrorCode.DuplicateMessage);
  });

  it('runs concurrent calls on one session one after another: no reused key, no replay', async () => {
    const { aliceToBob, bobFromAlice } = await established();
    // Parallel encryptions must not reuse a message key (same counter, same nonce).
    const sent = await Promise.all(Array.from({ length: 8 }, (_, i) => aliceToBob.encrypt(text(`p${i}`))));
    const counters = new Set(sent.map((m) => new DataView(m.buffer, m.byteOffset).getUint32(34)));
    expect(counters.size).toBe(8);
    const read = await Promise.all(sent.map((m) => bobFromAlice.decrypt(m)));
    expect(read.map((r) => str(r.plaintext))).toEqual(sent.map((_, i) => `p${i}`));
    // The same message delivered twice at once decrypts exactly once.
    const twice = await aliceToBob.encrypt(text('twice'));
    const outcomes = await Promise.allSettled([bobFromAlice.decrypt(twice), bobFromAlice.decrypt(twice)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  it('serialises a session record to bytes and back', async () => {
    const { alice, bob, aliceToBob, bobFromAlice } = await established();
    await aliceToBob.encrypt(text('skipped'));
    const late = await aliceToBob.encrypt(text('late'));
    const bytes = bob.stores.sessions.rawSession(alice.address) as Uint8Array;
    const record = SessionRecord.deserialize(bytes);
    expect(record.serialize()).toEqual(bytes);
    expect(str((await bobFromAlice.decrypt(late)).plaintext)).toBe('late');
    expect(
      SessionRecord.deserialize(bob.stores.sessions.rawSession(alice.address) as Uint8Array).current,
    ).toBeDefined();
  });

  it('rejects a session record from a newer library version', () => {
    const bytes = SessionRecord.empty().serialize();
    bytes[0] = 99;
    expect(() => SessionRecord.deserialize(bytes)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
  });

  it('recovers from simultaneous initiation: both sides keep talking', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    await processPreKeyBundle(alice.stores, bob.address, bob.bundle());
    await processPreKeyBundle(bob.stores, alice.address, alice.bundle());
    const aliceToBob = new SessionCipher(alice.stores, bob.address);
    const bobToAlice = new SessionCipher(bob.stores, alice.address);
    const fromAlice = await aliceToBob.encrypt(text('from alice'));
    const fromBob = await bobToAlice.encrypt(text('from bob'));
    expect(str((await bobToAlice.decrypt(fromAlice)).plaintext)).toBe('from alice');
    expect(str((await aliceToBob.decrypt(fromBob)).plaintext)).toBe('from bob');
    // Each side now uses the session the other built: messages keep flowing both ways.
    for (let i = 0; i < 3; i++) {
      expect(await roundTrip(aliceToBob, bobToAlice, `a${i}`)).toBe(`a${i}`);
      expect(await roundTrip(bobToAlice, aliceToBob, `b${i}`)).toBe(`b${i}`);
    }
  });
});
