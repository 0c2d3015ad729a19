/**
 * Property-based tests of pairwise sessions: random interleavings of two and three devices with out-of-order
 * delivery, drops, replays and DH ratchet turns; tampering; forward secrecy and healing after compromise.
 * Every session here is PQXDH: the test devices' bundles carry a one-time ML-KEM prekey (`helpers.ts`).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  InMemorySessionStore,
  initCrypto,
  isCryptoError,
  processPreKeyBundle,
  SessionCipher,
} from '../../src/crypto/index.ts';
import { type Device, makeDevice, str, text } from './helpers.ts';

beforeAll(initCrypto);

type Action =
  | { kind: 'send'; from: number; to: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'drop'; pick: number }
  | { kind: 'replay'; pick: number };

function actions(parties: number): fc.Arbitrary<Action[]> {
  const party = fc.nat({ max: parties - 1 });
  return fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), from: party, to: party }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }) },
    ),
    { maxLength: 40 },
  );
}

interface Envelope {
  from: number;
  to: number;
  bytes: Uint8Array;
  plaintext: string;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** `parties` devices with a session between every pair, set up and acknowledged. */
async function network(parties: number) {
  const devices: Device[] = [];
  for (let i = 0; i < parties; i++) devices.push(await makeDevice(`user${i}`));
  const ciphers = devices.map((from) => devices.map((to) => new SessionCipher(from.stores, to.address)));
  const cipher = (from: number, to: number) => ciphers[from]?.[to] as SessionCipher;
  for (let i = 0; i < parties; i++) {
    for (let j = i + 1; j < parties; j++) {
      const a = devices[i] as Device;
      const b = devices[j] as Device;
      await processPreKeyBundle(a.stores, b.address, b.bundle());
      await cipher(j, i).decrypt(await cipher(i, j).encrypt(text('hello')));
      await cipher(i, j).decrypt(await cipher(j, i).encrypt(text('ack')));
    }
  }
  return { devices, cipher };
}

async function runInterleaving(parties: number, script: Action[]): Promise<void> {
  const { cipher } = await network(parties);
  const inFlight: Envelope[] = [];
  const delivered: Envelope[] = [];
  let counter = 0;
  const deliver = async (envelope: Envelope) => {
    const { plaintext } = await cipher(envelope.to, envelope.from).decrypt(envelope.bytes);
    expect(str(plaintext)).toBe(envelope.plaintext);
    delivered.push(envelope);
  };
  for (const action of script) {
    if (action.kind === 'send') {
      if (action.from === action.to) continue;
      const plaintext = `${action.from}->${action.to} #${counter++}`;
      inFlight.push({ ...action, plaintext, bytes: await cipher(action.from, action.to).encrypt(text(plaintext)) });
    } else if (action.kind === 'deliver' || action.kind === 'drop') {
      if (inFlight.length === 0) continue;
      const [envelope] = inFlight.splice(action.pick % inFlight.length, 1);
      if (envelope !== undefined && action.kind === 'deliver') await deliver(envelope);
    } else {
      const envelope = delivered[action.pick % Math.max(delivered.length, 1)];
      if (envelope === undefined) continue;
      const error = await errorOf(cipher(envelope.to, envelope.from).decrypt(envelope.bytes));
      expect(isCryptoError(error, CryptoErrorCode.DuplicateMessage)).toBe(true);
    }
  }
  // Whatever is still in flight arrives last, newest first: each decrypts, exactly once.
  for (const envelope of inFlight.reverse()) await deliver(envelope);
  for (const envelope of delivered) {
    const error = await errorOf(cipher(envelope.to, envelope.from).decrypt(envelope.bytes));
    expect(isCryptoError(error, CryptoErrorCode.DuplicateMessage)).toBe(true);
  }
}

describe('pairwise sessions under random schedules', () => {
  it('two devices: every message decrypts exactly once despite reordering, drops and replays', async () => {
    await fc.assert(
      fc.asyncProperty(actions(2), (script) => runInterleaving(2, script)),
      { numRuns: 40 },
    );
  });

  it('three devices: every message decrypts exactly once despite reordering, drops and replays', async () => {
    await fc.assert(
      fc.asyncProperty(actions(3), (script) => runInterleaving(3, script)),
      { numRuns: 20 },
    );
  });

  it('rejects any modified byte and still decrypts the original afterwards', async () => {
    const { cipher } = await network(2);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (message, position, mask) => {
          const bytes = await cipher(0, 1).encrypt(text(message));
          const tampered = bytes.slice();
          const at = position % bytes.length;
          tampered[at] = (tampered[at] ?? 0) ^ mask;
          expect(isCryptoError(await errorOf(cipher(1, 0).decrypt(tampered)))).toBe(true);
          expect(str((await cipher(1, 0).decrypt(bytes)).plaintext)).toBe(message);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('compromise of a session state', () => {
  it('does not reveal messages already received, and heals once the ratchet has turned on both sides', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 4 }), fc.nat({ max: 4 }), async (before, pending) => {
        const { devices, cipher } = await network(2);
        const [alice, bob] = devices as [Device, Device];
        const received: Uint8Array[] = [];
        for (let i = 0; i < before; i++) {
          const bytes = await cipher(0, 1).encrypt(text(`old ${i}`));
          await cipher(1, 0).decrypt(bytes);
          received.push(bytes);
        }
        // Messages Alice sent on the current chain but Bob has not read yet.
        const unread: Uint8Array[] = [];
        for (let i = 0; i < pending; i++) unread.push(await cipher(0, 1).encrypt(text(`unread ${i}`)));

        // The attacker copies Bob's stored session.
        const stolen = new InMemorySessionStore();
        stolen.restoreRawSession(alice.address, bob.stores.sessions.rawSession(alice.address) as Uint8Array);
        const attacker = new SessionCipher({ ...bob.stores, sessions: stolen }, alice.address);

        // Forward secrecy: keys of messages already read are gone from the stolen state.
        for (const bytes of received) expect(isCryptoError(await errorOf(attacker.decrypt(bytes)))).toBe(true);
        // The compromise is real: the stolen state reads what is still pending on the current chain.
        for (const [i, bytes] of unread.entries()) {
          expect(str((await attacker.decrypt(bytes)).plaintext)).toBe(`unread ${i}`);
        }

        // Healing: once Bob has turned his DH ratchet after the theft (on receiving a ratchet key of Alice's he
        // has not seen) and Alice has answered his new key, her messages rest on a DH the attacker cannot
        // compute. Depending on where the theft fell in the ping-pong, that takes one or two round trips.
        // The attacker follows along with every message Alice sends, as far as the stolen keys allow.
        for (let round = 0; round < 2; round++) {
          const ping = await cipher(0, 1).encrypt(text('ping'));
          await errorOf(attacker.decrypt(ping));
          await cipher(1, 0).decrypt(ping);
          await cipher(0, 1).decrypt(await cipher(1, 0).encrypt(text('pong')));
        }
        const healed = await cipher(0, 1).encrypt(text('after healing'));
        expect(isCryptoError(await errorOf(attacker.decrypt(healed)))).toBe(true);
        expect(str((await cipher(1, 0).decrypt(healed)).plaintext)).toBe('after healing');
      }),
      { numRuns: 15 },
    );
  });
});
