/**
 * Pairwise sessions: X3DH set-up from a prekey bundle ({@link processPreKeyBundle}) and the Double Ratchet
 * cipher over the injected stores ({@link SessionCipher}).
 *
 * As in libsignal, the responder's first ratchet key is its signed prekey: the initiator turns the DH ratchet
 * once right after X3DH, so its very first message already has a fresh ratchet key, and it keeps sending
 * PreKeySignalMessages (which carry what the responder needs to complete X3DH) until it hears back.
 *
 * PQXDH: when the bundle carries a signed ML-KEM prekey, the initiator encapsulates to it and mixes the shared
 * secret into the KDF (`x3dh.ts`); the prekey messages then also carry the PQ prekey id and the ciphertext.
 * The responder decapsulates with that prekey and deletes it if it was a one-time one.
 */
import type { ProtocolAddress } from './address.ts';
import { CryptoError, CryptoErrorCode, isCryptoError } from './errors.ts';
import { IdentityKey, KeyPair, type PreKeyBundle } from './keys.ts';
import { serialized } from './lock.ts';
import {
  decodePreKeySignalMessage,
  decodeSignalMessage,
  encodePreKeySignalMessage,
  MessageType,
  messageType,
  type PreKeySignalMessage,
  type SignalMessage,
} from './messages.ts';
import { deriveRootChain } from './ratchet.ts';
import { SessionRecord, SessionState } from './session-state.ts';
import { Direction, type ProtocolStores } from './stores.ts';
import { x3dhInitiator, x3dhResponder } from './x3dh.ts';

async function checkTrusted(
  stores: ProtocolStores,
  address: ProtocolAddress,
  identity: IdentityKey,
  direction: Direction,
): Promise<void> {
  if (!(await stores.identities.isTrustedIdentity(address, identity, direction))) {
    throw new CryptoError(CryptoErrorCode.UntrustedIdentity, `identity key of ${address.toString()} changed`);
  }
}

export interface ProcessBundleOptions {
  /**
   * Refuse a bundle without an ML-KEM prekey (`PostQuantumDowngrade`): set it when the device is known to have
   * published one. A record that already holds a PQXDH session with the address implies it.
   */
  requirePostQuantum?: boolean;
}

/**
 * Sets up a session with `address` from its prekey bundle (the initiator's half of X3DH, or of PQXDH when the
 * bundle has an ML-KEM prekey). Verifies the signatures over the signed prekey and the PQ prekey, that the
 * bundle's identity is trusted and that the bundle is not a downgrade, then stores the new session as current.
 * A refused bundle changes nothing.
 */
export async function processPreKeyBundle(
  stores: ProtocolStores,
  address: ProtocolAddress,
  bundle: PreKeyBundle,
  options: ProcessBundleOptions = {},
): Promise<void> {
  if (!bundle.verifySignature()) {
    throw new CryptoError(CryptoErrorCode.InvalidSignature, `a prekey of ${address.toString()} has a bad signature`);
  }
  await checkTrusted(stores, address, bundle.identityKey, Direction.Sending);
  if (!bundle.postQuantum) {
    const known = await stores.sessions.loadSession(address);
    if (options.requirePostQuantum === true || known?.hasPostQuantumState === true) {
      throw new CryptoError(
        CryptoErrorCode.PostQuantumDowngrade,
        `bundle of ${address.toString()} has no PQ prekey, but the device has published one`,
      );
    }
  }
  const identity = await stores.identities.getIdentityKeyPair();
  const baseKey = KeyPair.generate();
  const theirSignedPreKey = bundle.signedPreKey.raw();
  const encapsulation = bundle.pqPreKey?.encapsulate();
  const initial = x3dhInitiator({
    ourIdentity: (theirs) => identity.agree(theirs),
    ourBasePrivateKey: baseKey.privateKeyBytes(),
    theirIdentity: bundle.identityKey.x25519(),
    theirSignedPreKey,
    theirOneTimePreKey: bundle.preKey?.raw(),
    kemSharedSecret: encapsulation?.sharedSecret,
  });
  // The responder's signed prekey is its first ratchet key: turn the ratchet once to get a sending chain.
  const sendingRatchetKey = KeyPair.generate();
  const sending = deriveRootChain(initial.rootKey, sendingRatchetKey.agreeRaw(theirSignedPreKey));
  const state = SessionState.create({
    localIdentity: identity.publicKey.raw(),
    remoteIdentity: bundle.identityKey.raw(),
    localRegistrationId: await stores.identities.getLocalRegistrationId(),
    remoteRegistrationId: bundle.registrationId,
    rootKey: sending.rootKey,
    sender: { ratchetKey: sendingRatchetKey, chainKey: sending.chainKey, index: 0 },
    previousCounter: 0,
    receivers: [{ ratchetKey: theirSignedPreKey, chainKey: initial.chainKey, index: 0, skipped: new Map() }],
    pendingPreKey: {
      preKeyId: bundle.preKeyId,
      signedPreKeyId: bundle.signedPreKeyId,
      baseKey: baseKey.publicKey.raw(),
      pq:
        encapsulation === undefined || bundle.pqPreKeyId === undefined
          ? undefined
          : { pqPreKeyId: bundle.pqPreKeyId, kemCiphertext: encapsulation.ciphertext },
    },
    baseKey: baseKey.publicKey.raw(),
    postQuantum: encapsulation !== undefined,
  });
  await serialized(stores.sessions, address.toString(), async () => {
    const record = (await stores.sessions.loadSession(address)) ?? SessionRecord.empty();
    record.promote(state);
    await stores.sessions.storeSession(address, record);
    await stores.identities.saveIdentity(address, bundle.identityKey);
  });
}

/** How a session's initial keys were agreed: post-quantum PQXDH, or classical X3DH. */
export type SessionKind = 'pqxdh' | 'x3dh';

export interface DecryptResult {
  plaintext: Uint8Array;
  /** True when this message set up a new session (a PreKeySignalMessage that completed X3DH). */
  newSession: boolean;
}

/** Encrypts and decrypts pairwise messages with one remote device. */
export class SessionCipher {
  readonly #stores: ProtocolStores;
  readonly #address: ProtocolAddress;

  constructor(stores: ProtocolStores, address: ProtocolAddress) {
    this.#stores = stores;
    this.#address = address;
  }

  get address(): ProtocolAddress {
    return this.#address;
  }

  async hasSession(): Promise<boolean> {
    return (await this.#stores.sessions.loadSession(this.#address))?.current !== undefined;
  }

  /** The kind of the current session: 'pqxdh', 'x3dh' (classical), or undefined without one. */
  async sessionKind(): Promise<SessionKind | undefined> {
    const current = (await this.#stores.sessions.loadSession(this.#address))?.current;
    if (current === undefined) return undefined;
    return current.postQuantum ? 'pqxdh' : 'x3dh';
  }

  /** Encrypts `plaintext`; the result is a PreKeySignalMessage until the peer has answered, then a SignalMessage. */
  async encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return serialized(this.#stores.sessions, this.#address.toString(), () => this.#encrypt(plaintext));
  }

  async #encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    const record = await this.#stores.sessions.loadSession(this.#address);
    const state = record?.current;
    if (record === undefined || state === undefined) {
      throw new CryptoError(CryptoErrorCode.NoSession, `no session with ${this.#address.toString()}`);
    }
    await checkTrusted(this.#stores, this.#address, IdentityKey.fromRaw(state.remoteIdentity), Direction.Sending);
    let body = state.encrypt(plaintext);
    const pending = state.pendingPreKey;
    if (pending !== undefined) {
      const identity = await this.#stores.identities.getIdentityKeyPair();
      body = encodePreKeySignalMessage({
        registrationId: await this.#stores.identities.getLocalRegistrationId(),
        preKeyId: pending.preKeyId,
        signedPreKeyId: pending.signedPreKeyId,
        pq: pending.pq,
        baseKey: pending.baseKey,
        identityKey: identity.publicKey,
        message: body,
      });
    }
    await this.#stores.sessions.storeSession(this.#address, record);
    return body;
  }

  /** Decrypts a serialised SignalMessage or PreKeySignalMessage from this cipher's address. */
  async decrypt(bytes: Uint8Array): Promise<DecryptResult> {
    const isPreKey = messageType(bytes) === MessageType.PreKey;
    const preKeyMessage = isPreKey ? decodePreKeySignalMessage(bytes) : undefined;
    const message = preKeyMessage?.message ?? decodeSignalMessage(bytes);
    return serialized(this.#stores.sessions, this.#address.toString(), async () =>
      preKeyMessage === undefined
        ? { plaintext: await this.#decryptSignalMessage(message), newSession: false }
        : this.#decryptPreKeyMessage(preKeyMessage),
    );
  }

  async #decryptSignalMessage(message: SignalMessage): Promise<Uint8Array> {
    const record = await this.#stores.sessions.loadSession(this.#address);
    if (record === undefined || (record.current === undefined && record.previous.length === 0)) {
      throw new CryptoError(CryptoErrorCode.NoSession, `no session with ${this.#address.toString()}`);
    }
    const plaintext = decryptWithRecord(record, message);
    const current = record.current;
    if (current !== undefined) {
      await checkTrusted(this.#stores, this.#address, IdentityKey.fromRaw(current.remoteIdentity), Direction.Receiving);
    }
    await this.#stores.sessions.storeSession(this.#address, record);
    return plaintext;
  }

  async #decryptPreKeyMessage(message: PreKeySignalMessage): Promise<DecryptResult> {
    const stores = this.#stores;
    await checkTrusted(stores, this.#address, message.identityKey, Direction.Receiving);
    const record = (await stores.sessions.loadSession(this.#address)) ?? SessionRecord.empty();

    // A re-sent prekey message for a session we already built: decrypt it on that session.
    if (record.findByBaseKey(message.baseKey) !== undefined) {
      const plaintext = decryptWithRecord(record, message.message);
      await stores.sessions.storeSession(this.#address, record);
      return { plaintext, newSession: false };
    }

    const signedPreKey = await stores.signedPreKeys.loadSignedPreKey(message.signedPreKeyId);
    if (signedPreKey === undefined) {
      throw new CryptoError(CryptoErrorCode.InvalidKeyId, `no signed prekey ${message.signedPreKeyId}`);
    }
    const preKey = message.preKeyId === undefined ? undefined : await stores.preKeys.loadPreKey(message.preKeyId);
    if (message.preKeyId !== undefined && preKey === undefined) {
      throw new CryptoError(CryptoErrorCode.InvalidKeyId, `no one-time prekey ${message.preKeyId} (used or removed)`);
    }
    const pq = message.pq;
    const pqPreKey = pq === undefined ? undefined : await stores.pqPreKeys.loadPqPreKey(pq.pqPreKeyId);
    if (pq !== undefined && pqPreKey === undefined) {
      throw new CryptoError(CryptoErrorCode.InvalidKeyId, `no PQ prekey ${pq.pqPreKeyId} (used or removed)`);
    }
    const identity = await stores.identities.getIdentityKeyPair();
    const initial = x3dhResponder({
      ourIdentity: (theirs) => identity.agree(theirs),
      ourSignedPreKeyPrivateKey: signedPreKey.keyPair.privateKeyBytes(),
      ourOneTimePreKeyPrivateKey: preKey?.keyPair.privateKeyBytes(),
      theirIdentity: message.identityKey.x25519(),
      theirBaseKey: message.baseKey,
      // Implicit rejection: a tampered ciphertext gives a wrong secret, so the first message fails to decrypt.
      kemSharedSecret: pq === undefined ? undefined : pqPreKey?.keyPair.decapsulate(pq.kemCiphertext),
    });
    const state = SessionState.create({
      localIdentity: identity.publicKey.raw(),
      remoteIdentity: message.identityKey.raw(),
      localRegistrationId: await stores.identities.getLocalRegistrationId(),
      remoteRegistrationId: message.registrationId,
      rootKey: initial.rootKey,
      sender: { ratchetKey: signedPreKey.keyPair, chainKey: initial.chainKey, index: 0 },
      previousCounter: 0,
      receivers: [],
      pendingPreKey: undefined,
      baseKey: message.baseKey,
      postQuantum: pq !== undefined,
    });
    const plaintext = state.decrypt(message.message);
    // Authentic (it decrypted). A last-resort PQ prekey stays, so its uses are remembered before anything is
    // stored: a replayed first message, to a device that lost the session it made, is refused and changes nothing.
    // A one-time PQ prekey is deleted after the session is stored, like the classical one.
    const markUsed = () => stores.pqPreKeys.markPqPreKeyUsed(pq?.pqPreKeyId ?? 0, signedPreKey.id, message.baseKey);
    if (pqPreKey?.lastResort === true && !(await markUsed())) {
      throw new CryptoError(CryptoErrorCode.DuplicateMessage, 'prekey message replayed on the last-resort PQ prekey');
    }
    record.promote(state);
    await stores.sessions.storeSession(this.#address, record);
    await stores.identities.saveIdentity(this.#address, message.identityKey);
    if (message.preKeyId !== undefined) await stores.preKeys.removePreKey(message.preKeyId);
    if (pqPreKey?.lastResort === false) await markUsed();
    return { plaintext, newSession: true };
  }
}

/**
 * Tries the current state, then the archived ones, each on a copy; the first that decrypts is kept (and made
 * current). When none does, reports the most telling failure: a duplicate or a too-large gap over a bad MAC.
 */
function decryptWithRecord(record: SessionRecord, message: SignalMessage): Uint8Array {
  let failure: unknown;
  const current = record.current;
  if (current !== undefined) {
    const attempt = current.clone();
    try {
      const plaintext = attempt.decrypt(message);
      record.replaceCurrent(attempt);
      return plaintext;
    } catch (error) {
      failure = error;
    }
  }
  for (const [index, state] of record.previous.entries()) {
    const attempt = state.clone();
    try {
      const plaintext = attempt.decrypt(message);
      record.promoteArchived(index, attempt);
      return plaintext;
    } catch (error) {
      if (failure === undefined || isCryptoError(failure, CryptoErrorCode.InvalidMessage)) failure = error;
    }
  }
  if (isCryptoError(failure) && failure.code !== CryptoErrorCode.InvalidKey) throw failure;
  throw new CryptoError(CryptoErrorCode.InvalidMessage, 'no session state decrypts this message', { cause: failure });
}
