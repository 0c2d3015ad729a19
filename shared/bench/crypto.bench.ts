/**
 * `npm run bench:crypto`: throughput of the crypto library on 200-byte messages, next to libsignal-client's
 * (native Rust through N-API) on the same workload in the same run. Figures, not assertions.
 */
import { performance } from 'node:perf_hooks';
import {
  AttachmentEncryptor,
  createSenderKeyDistributionMessage,
  decryptAttachment,
  Fingerprint,
  generateAttachmentKey,
  groupDecrypt,
  groupEncrypt,
  IdentityKeyPair,
  InMemorySenderKeyStore,
  initCrypto,
  inMemoryProtocolStores,
  PreKeyBundle,
  PreKeyRecord,
  ProtocolAddress,
  processPreKeyBundle,
  processSenderKeyDistributionMessage,
  SessionCipher,
  SignedPreKeyRecord,
} from '../src/crypto/index.ts';
import { type LibsignalDevice, libsignalDevice, loadLibsignal } from './libsignal-workload.ts';

const MESSAGE_BYTES = 200;
const ROUNDS = 3;
const plaintext = new Uint8Array(MESSAGE_BYTES).fill(0x61);

interface Measurement {
  opsPerSecond: number;
  note?: string;
}

/** Runs `fn` (which performs `ops` operations) once to warm up, then ROUNDS times; reports the median. */
async function measure(ops: number, fn: () => Promise<void>): Promise<Measurement> {
  await fn();
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await fn();
    rates.push(ops / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { opsPerSecond: rates[Math.floor(rates.length / 2)] ?? 0 };
}

// ---------- our library ----------

async function ourDevice(name: string, deviceId = 1) {
  const identity = IdentityKeyPair.generate();
  const registrationId = 1 + Math.floor(Math.random() * 16000);
  const stores = inMemoryProtocolStores(identity, registrationId);
  const signed = SignedPreKeyRecord.generate(1, identity);
  await stores.signedPreKeys.storeSignedPreKey(1, signed);
  let nextId = 1;
  return {
    address: ProtocolAddress.of(name, deviceId),
    identity,
    stores,
    async bundle(): Promise<PreKeyBundle> {
      const preKey = PreKeyRecord.generate(nextId++);
      await stores.preKeys.storePreKey(preKey.id, preKey);
      return PreKeyBundle.create({
        registrationId,
        deviceId,
        identityKey: identity.publicKey,
        signedPreKeyId: 1,
        signedPreKey: signed.keyPair.publicKey,
        signedPreKeySignature: signed.signature,
        preKeyId: preKey.id,
        preKey: preKey.keyPair.publicKey,
      });
    },
  };
}

async function ourSession() {
  const alice = await ourDevice('alice');
  const bob = await ourDevice('bob');
  await processPreKeyBundle(alice.stores, bob.address, await bob.bundle());
  const aliceToBob = new SessionCipher(alice.stores, bob.address);
  const bobToAlice = new SessionCipher(bob.stores, alice.address);
  await bobToAlice.decrypt(await aliceToBob.encrypt(plaintext));
  await aliceToBob.decrypt(await bobToAlice.encrypt(plaintext));
  return { aliceToBob, bobToAlice };
}

/** Times only what `prepare` returns, so key generation and message preparation stay out of the figure. */
async function timed(ops: number, prepare: () => Promise<() => Promise<void>>): Promise<Measurement> {
  const rates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const run = await prepare();
    const start = performance.now();
    await run();
    if (round > 0) rates.push(ops / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { opsPerSecond: rates[Math.floor(rates.length / 2)] ?? 0 };
}

async function ourSenderKeyPair() {
  const alice = ProtocolAddress.of('alice', 1);
  const sending = new InMemorySenderKeyStore();
  const receiving = new InMemorySenderKeyStore();
  const group = 'bench-group';
  await processSenderKeyDistributionMessage(
    receiving,
    alice,
    await createSenderKeyDistributionMessage(sending, alice, group),
  );
  return { alice, sending, receiving, group };
}

const ours = {
  x3dh: (n: number) =>
    timed(n, async () => {
      const bob = await ourDevice('bob');
      const setups: { alice: Awaited<ReturnType<typeof ourDevice>>; bundle: PreKeyBundle }[] = [];
      for (let i = 0; i < n; i++) setups.push({ alice: await ourDevice(`a${i}`), bundle: await bob.bundle() });
      return async () => {
        for (const { alice, bundle } of setups) {
          await processPreKeyBundle(alice.stores, bob.address, bundle);
          const first = await new SessionCipher(alice.stores, bob.address).encrypt(plaintext);
          await new SessionCipher(bob.stores, alice.address).decrypt(first);
        }
      };
    }),
  async oneWay(n: number): Promise<Measurement> {
    const { aliceToBob, bobToAlice } = await ourSession();
    return measure(n, async () => {
      for (let i = 0; i < n; i++) await bobToAlice.decrypt(await aliceToBob.encrypt(plaintext));
    });
  },
  async pingPong(n: number): Promise<Measurement> {
    const { aliceToBob, bobToAlice } = await ourSession();
    return measure(n, async () => {
      for (let i = 0; i < n; i += 2) {
        await bobToAlice.decrypt(await aliceToBob.encrypt(plaintext));
        await aliceToBob.decrypt(await bobToAlice.encrypt(plaintext));
      }
    });
  },
  async senderKeyEncrypt(n: number): Promise<Measurement> {
    const { alice, sending, group } = await ourSenderKeyPair();
    return measure(n, async () => {
      for (let i = 0; i < n; i++) await groupEncrypt(sending, alice, group, plaintext);
    });
  },
  senderKeyDecrypt: (n: number) =>
    timed(n, async () => {
      const { alice, sending, receiving, group } = await ourSenderKeyPair();
      const messages: Uint8Array[] = [];
      for (let i = 0; i < n; i++) messages.push(await groupEncrypt(sending, alice, group, plaintext));
      return async () => {
        for (const m of messages) await groupDecrypt(receiving, alice, m);
      };
    }),
  safetyNumber(n: number): Promise<Measurement> {
    const a = IdentityKeyPair.generate().publicKey;
    const b = IdentityKeyPair.generate().publicKey;
    return measure(n, async () => {
      for (let i = 0; i < n; i++) Fingerprint.compute('+14152222222', a, '+14153333333', b).displayString;
    });
  },
};

async function attachmentMegabytesPerSecond(megabytes: number): Promise<{ encrypt: number; decrypt: number }> {
  const piece = new Uint8Array(256 * 1024).fill(7);
  const pieces = function* () {
    for (let i = 0; i < megabytes * 4; i++) yield piece;
  };
  const key = generateAttachmentKey();
  const ciphertext: Uint8Array[] = [];
  let start = performance.now();
  const encryptor = new AttachmentEncryptor(key, pieces());
  for await (const chunk of encryptor.chunks()) ciphertext.push(chunk);
  const digest = encryptor.digest();
  const encrypt = megabytes / ((performance.now() - start) / 1000);
  start = performance.now();
  let bytes = 0;
  for await (const chunk of decryptAttachment(key, ciphertext, digest)) bytes += chunk.length;
  const decrypt = megabytes / ((performance.now() - start) / 1000);
  if (bytes !== megabytes * 1024 * 1024) throw new Error('attachment round trip lost bytes');
  return { encrypt, decrypt };
}

// ---------- libsignal ----------

type Lib = Exclude<Awaited<ReturnType<typeof loadLibsignal>>, string>;

async function libsignalSession(lib: Lib) {
  const alice = libsignalDevice(lib, 'alice', 1);
  const bob = libsignalDevice(lib, 'bob', 1);
  await lib.processPreKeyBundle(
    await bob.bundle(),
    bob.address,
    alice.address,
    alice.stores.sessions,
    alice.stores.identities,
  );
  const body = new Uint8Array(plaintext);
  await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
  await alice.decrypt(bob.address, await bob.encrypt(alice.address, body));
  return { alice, bob, body };
}

function libsignalWorkloads(lib: Lib) {
  return {
    x3dh: (n: number) =>
      timed(n, async () => {
        const bob = libsignalDevice(lib, 'bob', 1);
        const setups: { alice: LibsignalDevice; bundle: Awaited<ReturnType<LibsignalDevice['bundle']>> }[] = [];
        for (let i = 0; i < n; i++)
          setups.push({ alice: libsignalDevice(lib, `a${i}`, 1), bundle: await bob.bundle() });
        const body = new Uint8Array(plaintext);
        return async () => {
          for (const { alice, bundle } of setups) {
            await lib.processPreKeyBundle(
              bundle,
              bob.address,
              alice.address,
              alice.stores.sessions,
              alice.stores.identities,
            );
            await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
          }
        };
      }),
    async oneWay(n: number) {
      const { alice, bob, body } = await libsignalSession(lib);
      return measure(n, async () => {
        for (let i = 0; i < n; i++) await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
      });
    },
    async pingPong(n: number) {
      const { alice, bob, body } = await libsignalSession(lib);
      return measure(n, async () => {
        for (let i = 0; i < n; i += 2) {
          await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
          await alice.decrypt(bob.address, await bob.encrypt(alice.address, body));
        }
      });
    },
    async senderKeys(n: number) {
      const alice = libsignalDevice(lib, 'alice', 1);
      const bob = libsignalDevice(lib, 'bob', 1);
      const group = '9b3f3f6e-7a1c-4c1e-9d7e-3b0f1a2c4d5e';
      const distribution = await lib.SenderKeyDistributionMessage.create(alice.address, group, alice.stores.senderKeys);
      await lib.processSenderKeyDistributionMessage(alice.address, distribution, bob.stores.senderKeys);
      const body = new Uint8Array(plaintext);
      const encrypt = await measure(n, async () => {
        for (let i = 0; i < n; i++) await lib.groupEncrypt(alice.address, group, alice.stores.senderKeys, body);
      });
      const decrypt = await timed(n, async () => {
        const messages: Uint8Array<ArrayBuffer>[] = [];
        for (let i = 0; i < n; i++) {
          messages.push((await lib.groupEncrypt(alice.address, group, alice.stores.senderKeys, body)).serialize());
        }
        return async () => {
          for (const m of messages) await lib.groupDecrypt(alice.address, bob.stores.senderKeys, m);
        };
      });
      return { encrypt, decrypt };
    },
    safetyNumber(n: number) {
      const a = lib.IdentityKeyPair.generate().publicKey;
      const b = lib.IdentityKeyPair.generate().publicKey;
      const enc = new TextEncoder();
      return measure(n, async () => {
        for (let i = 0; i < n; i++) {
          lib.Fingerprint.new(5200, 2, enc.encode('+14152222222'), a, enc.encode('+14153333333'), b)
            .displayableFingerprint()
            .toString();
        }
      });
    },
  };
}

// ---------- report ----------

function format(m: Measurement | undefined): string {
  if (m === undefined) return 'n/a';
  const perOp = 1e6 / m.opsPerSecond;
  return `${m.opsPerSecond.toFixed(0).padStart(8)} /s ${perOp.toFixed(1).padStart(8)} µs`;
}

function ratio(a: Measurement | undefined, b: Measurement | undefined): string {
  return a === undefined || b === undefined ? 'n/a' : `${(a.opsPerSecond / b.opsPerSecond).toFixed(2)}x`;
}

async function main(): Promise<void> {
  await initCrypto();
  const loaded = await loadLibsignal();
  const lib = typeof loaded === 'string' ? undefined : libsignalWorkloads(loaded);
  console.log(
    `CipherTalk crypto benchmark: ${MESSAGE_BYTES}-byte messages, Node ${process.version}, median of ${ROUNDS}`,
  );
  console.log(
    lib === undefined
      ? `libsignal-client: NOT AVAILABLE (${String(loaded)}); only our figures are shown`
      : 'libsignal-client: loaded (native). Its X3DH includes the Kyber-1024 prekey its bundles now require.',
  );
  const libSender = await lib?.senderKeys(2000);
  const rows: [string, Measurement, Measurement | undefined][] = [
    ['X3DH set-up + first message', await ours.x3dh(100), await lib?.x3dh(100)],
    ['ratchet encrypt+decrypt, one way', await ours.oneWay(2000), await lib?.oneWay(2000)],
    ['ratchet ping-pong (DH turn each msg)', await ours.pingPong(2000), await lib?.pingPong(2000)],
    ['sender-key encrypt', await ours.senderKeyEncrypt(2000), libSender?.encrypt],
    ['sender-key decrypt', await ours.senderKeyDecrypt(2000), libSender?.decrypt],
    ['safety number (5200 x SHA-512, x2)', await ours.safetyNumber(20), await lib?.safetyNumber(20)],
  ];

  console.log('');
  console.log(`${'workload'.padEnd(40)} ${'ours'.padEnd(24)} ${'libsignal'.padEnd(24)} ours/libsignal`);
  for (const [name, mine, theirs] of rows) {
    console.log(`${name.padEnd(40)} ${format(mine).padEnd(24)} ${format(theirs).padEnd(24)} ${ratio(mine, theirs)}`);
  }
  const attachment = await attachmentMegabytesPerSecond(32);
  console.log(
    `${'attachment (32 MiB, secretstream)'.padEnd(40)} encrypt ${attachment.encrypt.toFixed(0)} MB/s, decrypt ${attachment.decrypt.toFixed(0)} MB/s (libsignal-client has no attachment API: n/a)`,
  );
}

await main();
