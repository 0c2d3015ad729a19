/**
 * `npm run bench:crypto`: throughput of the crypto library on 200-byte messages, next to libsignal-client's
 * (native Rust through N-API) on the same workload in the same run. Figures, never assertions.
 *
 * Each workload is prepared outside the timed region (key generation for bundles, messages to decrypt) and run
 * in alternating rounds, ours then libsignal's, so both see the same machine load; the median round counts.
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
  PqPreKeyRecord,
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
const ROUNDS = 5;
const MESSAGES = 2000;
const SETUPS = 100;
const FINGERPRINTS = 20;
const ATTACHMENT_MIB = 32;
const plaintext = new Uint8Array(MESSAGE_BYTES).fill(0x61);

/** Prepares one round (untimed) and returns the timed part, which performs `ops` operations. */
type Workload = () => Promise<() => Promise<void>>;
type Lib = Exclude<Awaited<ReturnType<typeof loadLibsignal>>, string>['lib'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Ops per second of each workload: one warm-up round, then ROUNDS alternating rounds. */
async function compare(ops: number, ours: Workload, theirs: Workload | undefined): Promise<[number, number?]> {
  const rates: [number[], number[]] = [[], []];
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [index, workload] of [ours, theirs].entries()) {
      if (workload === undefined) continue;
      const run = await workload();
      const start = performance.now();
      await run();
      if (round > 0) rates[index]?.push(ops / ((performance.now() - start) / 1000));
    }
  }
  return theirs === undefined ? [median(rates[0])] : [median(rates[0]), median(rates[1])];
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
    stores,
    /** A fresh PQXDH bundle (one-time, signed and one-time ML-KEM prekey), as libsignal's below. */
    async bundle(): Promise<PreKeyBundle> {
      const preKey = PreKeyRecord.generate(nextId);
      const pqPreKey = PqPreKeyRecord.generate(nextId++, identity);
      await stores.preKeys.storePreKey(preKey.id, preKey);
      await stores.pqPreKeys.storePqPreKey(pqPreKey.id, pqPreKey);
      return PreKeyBundle.create({
        registrationId,
        deviceId,
        identityKey: identity.publicKey,
        signedPreKeyId: 1,
        signedPreKey: signed.keyPair.publicKey,
        signedPreKeySignature: signed.signature,
        preKeyId: preKey.id,
        preKey: preKey.keyPair.publicKey,
        pqPreKeyId: pqPreKey.id,
        pqPreKey: pqPreKey.keyPair.publicKey,
        pqPreKeySignature: pqPreKey.signature,
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
  const firstMessage = await aliceToBob.encrypt(plaintext);
  await bobToAlice.decrypt(firstMessage);
  await aliceToBob.decrypt(await bobToAlice.encrypt(plaintext));
  const recordBytes = alice.stores.sessions.rawSession(bob.address)?.length ?? 0;
  const messageBytes = (await aliceToBob.encrypt(plaintext)).length;
  await bobToAlice.decrypt(await aliceToBob.encrypt(plaintext));
  return { aliceToBob, bobToAlice, recordBytes, messageBytes, firstMessageBytes: firstMessage.length };
}

async function ourSenderKeys() {
  const alice = ProtocolAddress.of('alice', 1);
  const sending = new InMemorySenderKeyStore();
  const receiving = new InMemorySenderKeyStore();
  const group = 'bench-group';
  const distribution = await createSenderKeyDistributionMessage(sending, alice, group);
  await processSenderKeyDistributionMessage(receiving, alice, distribution);
  return { alice, sending, receiving, group };
}

async function ourWorkloads() {
  const oneWay = await ourSession();
  const pingPong = await ourSession();
  const senderKeys = await ourSenderKeys();
  const a = IdentityKeyPair.generate().publicKey;
  const b = IdentityKeyPair.generate().publicKey;
  return {
    x3dh: (async () => {
      const bob = await ourDevice('bob');
      const setups: { alice: Awaited<ReturnType<typeof ourDevice>>; bundle: PreKeyBundle }[] = [];
      for (let i = 0; i < SETUPS; i++) setups.push({ alice: await ourDevice(`a${i}`), bundle: await bob.bundle() });
      return async () => {
        for (const { alice, bundle } of setups) {
          await processPreKeyBundle(alice.stores, bob.address, bundle);
          const first = await new SessionCipher(alice.stores, bob.address).encrypt(plaintext);
          await new SessionCipher(bob.stores, alice.address).decrypt(first);
        }
      };
    }) satisfies Workload,
    oneWay: (async () => async () => {
      for (let i = 0; i < MESSAGES; i++) await oneWay.bobToAlice.decrypt(await oneWay.aliceToBob.encrypt(plaintext));
    }) satisfies Workload,
    pingPong: (async () => async () => {
      for (let i = 0; i < MESSAGES; i += 2) {
        await pingPong.bobToAlice.decrypt(await pingPong.aliceToBob.encrypt(plaintext));
        await pingPong.aliceToBob.decrypt(await pingPong.bobToAlice.encrypt(plaintext));
      }
    }) satisfies Workload,
    senderKeyEncrypt: (async () => async () => {
      const { alice, sending, group } = senderKeys;
      for (let i = 0; i < MESSAGES; i++) await groupEncrypt(sending, alice, group, plaintext);
    }) satisfies Workload,
    senderKeyDecrypt: (async () => {
      const { alice, sending, receiving, group } = await ourSenderKeys();
      const messages: Uint8Array[] = [];
      for (let i = 0; i < MESSAGES; i++) messages.push(await groupEncrypt(sending, alice, group, plaintext));
      return async () => {
        for (const message of messages) await groupDecrypt(receiving, alice, message);
      };
    }) satisfies Workload,
    safetyNumber: (async () => async () => {
      for (let i = 0; i < FINGERPRINTS; i++) Fingerprint.compute('+14152222222', a, '+14153333333', b);
    }) satisfies Workload,
    sizes: {
      recordBytes: oneWay.recordBytes,
      messageBytes: oneWay.messageBytes,
      firstMessageBytes: oneWay.firstMessageBytes,
    },
  };
}

async function attachmentMegabytesPerSecond(): Promise<{ encrypt: number; decrypt: number }> {
  const piece = new Uint8Array(256 * 1024).fill(7);
  const pieces = function* () {
    for (let i = 0; i < ATTACHMENT_MIB * 4; i++) yield piece;
  };
  const key = generateAttachmentKey();
  const ciphertext: Uint8Array[] = [];
  let start = performance.now();
  const encryptor = new AttachmentEncryptor(key, pieces());
  for await (const chunk of encryptor.chunks()) ciphertext.push(chunk);
  const digest = encryptor.digest();
  const encrypt = (ATTACHMENT_MIB * 1.048576) / ((performance.now() - start) / 1000);
  start = performance.now();
  let bytes = 0;
  for await (const chunk of decryptAttachment(key, ciphertext, digest)) bytes += chunk.length;
  const decrypt = (ATTACHMENT_MIB * 1.048576) / ((performance.now() - start) / 1000);
  if (bytes !== ATTACHMENT_MIB * 1024 * 1024) throw new Error('attachment round trip lost bytes');
  return { encrypt, decrypt };
}

// ---------- libsignal ----------

async function libsignalSession(lib: Lib) {
  const alice = libsignalDevice(lib, 'alice', 1);
  const bob = libsignalDevice(lib, 'bob', 1);
  const { sessions, identities } = alice.stores;
  await lib.processPreKeyBundle(await bob.bundle(), bob.address, alice.address, sessions, identities);
  const body = new Uint8Array(plaintext);
  const firstMessage = await alice.encrypt(bob.address, body);
  await bob.decrypt(alice.address, firstMessage);
  await alice.decrypt(bob.address, await bob.encrypt(alice.address, body));
  const recordBytes = alice.stores.sessions.map.get(bob.address.toString())?.length ?? 0;
  const messageBytes = (await alice.encrypt(bob.address, body)).serialize().length;
  return { alice, bob, body, recordBytes, messageBytes, firstMessageBytes: firstMessage.serialize().length };
}

async function libsignalWorkloads(lib: Lib) {
  const oneWay = await libsignalSession(lib);
  const pingPong = await libsignalSession(lib);
  const group = '9b3f3f6e-7a1c-4c1e-9d7e-3b0f1a2c4d5e';
  const senderKeys = async () => {
    const alice = libsignalDevice(lib, 'alice', 1);
    const bob = libsignalDevice(lib, 'bob', 1);
    const distribution = await lib.SenderKeyDistributionMessage.create(alice.address, group, alice.stores.senderKeys);
    await lib.processSenderKeyDistributionMessage(alice.address, distribution, bob.stores.senderKeys);
    return { alice, bob };
  };
  const sending = await senderKeys();
  const body = new Uint8Array(plaintext);
  const a = lib.IdentityKeyPair.generate().publicKey;
  const b = lib.IdentityKeyPair.generate().publicKey;
  const utf8 = new TextEncoder();
  return {
    x3dh: (async () => {
      const bob = libsignalDevice(lib, 'bob', 1);
      const setups: { alice: LibsignalDevice; bundle: Awaited<ReturnType<LibsignalDevice['bundle']>> }[] = [];
      for (let i = 0; i < SETUPS; i++)
        setups.push({ alice: libsignalDevice(lib, `a${i}`, 1), bundle: await bob.bundle() });
      return async () => {
        for (const { alice, bundle } of setups) {
          const { sessions, identities } = alice.stores;
          await lib.processPreKeyBundle(bundle, bob.address, alice.address, sessions, identities);
          await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
        }
      };
    }) satisfies Workload,
    oneWay: (async () => async () => {
      const { alice, bob } = oneWay;
      for (let i = 0; i < MESSAGES; i++) await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
    }) satisfies Workload,
    pingPong: (async () => async () => {
      const { alice, bob } = pingPong;
      for (let i = 0; i < MESSAGES; i += 2) {
        await bob.decrypt(alice.address, await alice.encrypt(bob.address, body));
        await alice.decrypt(bob.address, await bob.encrypt(alice.address, body));
      }
    }) satisfies Workload,
    senderKeyEncrypt: (async () => async () => {
      const { alice } = sending;
      for (let i = 0; i < MESSAGES; i++) await lib.groupEncrypt(alice.address, group, alice.stores.senderKeys, body);
    }) satisfies Workload,
    senderKeyDecrypt: (async () => {
      const { alice, bob } = await senderKeys();
      const messages: Uint8Array<ArrayBuffer>[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        messages.push((await lib.groupEncrypt(alice.address, group, alice.stores.senderKeys, body)).serialize());
      }
      return async () => {
        for (const message of messages) await lib.groupDecrypt(alice.address, bob.stores.senderKeys, message);
      };
    }) satisfies Workload,
    safetyNumber: (async () => async () => {
      for (let i = 0; i < FINGERPRINTS; i++) {
        lib.Fingerprint.new(5200, 2, utf8.encode('+14152222222'), a, utf8.encode('+14153333333'), b)
          .displayableFingerprint()
          .toString();
      }
    }) satisfies Workload,
    sizes: {
      recordBytes: oneWay.recordBytes,
      messageBytes: oneWay.messageBytes,
      firstMessageBytes: oneWay.firstMessageBytes,
    },
  };
}

// ---------- report ----------

function cell(opsPerSecond: number | undefined): string {
  if (opsPerSecond === undefined) return 'n/a';
  return `${opsPerSecond.toFixed(0).padStart(7)} /s ${(1e6 / opsPerSecond).toFixed(1).padStart(8)} µs`;
}

async function main(): Promise<void> {
  await initCrypto();
  const loaded = await loadLibsignal();
  console.log(`CipherTalk crypto benchmark: ${MESSAGE_BYTES}-byte messages, Node ${process.version},`);
  console.log(`median of ${ROUNDS} rounds alternating between the two libraries, preparation not timed.`);
  console.log(
    typeof loaded === 'string'
      ? `libsignal-client: NOT AVAILABLE (${loaded}); only our figures are shown.`
      : `libsignal-client ${loaded.version} (native Rust via N-API, in-memory stores keeping serialised records as ours do).\n` +
          'Both set up sessions with PQXDH (an ML-KEM-1024 prekey in every bundle). libsignal also keeps SPQR, its\n' +
          'post-quantum ratchet, in each session record (state and message overhead); ours has none, see\n' +
          'shared/src/crypto/README.md.',
  );
  const ours = await ourWorkloads();
  const theirs = typeof loaded === 'string' ? undefined : await libsignalWorkloads(loaded.lib);
  const rows: [string, number, Workload, Workload | undefined][] = [
    ['PQXDH set-up + first message', SETUPS, ours.x3dh, theirs?.x3dh],
    ['ratchet encrypt+decrypt, one way', MESSAGES, ours.oneWay, theirs?.oneWay],
    ['ratchet ping-pong (DH turn every msg)', MESSAGES, ours.pingPong, theirs?.pingPong],
    ['sender-key encrypt', MESSAGES, ours.senderKeyEncrypt, theirs?.senderKeyEncrypt],
    ['sender-key decrypt', MESSAGES, ours.senderKeyDecrypt, theirs?.senderKeyDecrypt],
    ['safety number (2 x 5200 SHA-512)', FINGERPRINTS, ours.safetyNumber, theirs?.safetyNumber],
  ];
  console.log('');
  console.log(`${'workload'.padEnd(40)}${'ours'.padEnd(24)}${'libsignal'.padEnd(24)}ours/libsignal`);
  for (const [name, ops, mine, other] of rows) {
    const [ourRate, theirRate] = await compare(ops, mine, other);
    const ratio = theirRate === undefined ? 'n/a' : `${(ourRate / theirRate).toFixed(2)}x`;
    console.log(`${name.padEnd(40)}${cell(ourRate).padEnd(24)}${cell(theirRate).padEnd(24)}${ratio}`);
  }
  const size = (s: { messageBytes: number; recordBytes: number } | undefined) =>
    s === undefined ? 'n/a' : `${s.messageBytes} B / ${s.recordBytes} B`;
  console.log(
    `${'200-byte message on the wire / session'.padEnd(40)}${size(ours.sizes).padEnd(24)}${size(theirs?.sizes)}`,
  );
  const first = (s: { firstMessageBytes: number } | undefined) =>
    s === undefined ? 'n/a' : `${s.firstMessageBytes} B`;
  console.log(
    `${'first (prekey) message on the wire'.padEnd(40)}${first(ours.sizes).padEnd(24)}${first(theirs?.sizes)}`,
  );
  const attachment = await attachmentMegabytesPerSecond();
  console.log(
    `${`attachment (${ATTACHMENT_MIB} MiB, secretstream)`.padEnd(40)}` +
      `encrypt ${attachment.encrypt.toFixed(0)} MB/s, decrypt ${attachment.decrypt.toFixed(0)} MB/s` +
      ' (libsignal-client has no attachment API)',
  );
}

await main();
