/**
 * The Double Ratchet state of one session and the record that holds a device's sessions with one address.
 *
 * Skipped message keys: as in the Signal spec, when the DH ratchet turns, the receiving chain it leaves is
 * advanced to the sender's "previous counter" (storing the seeds of the keys not yet used), and its chain key is
 * then erased, so the state can derive nothing on that chain beyond what was actually sent. Stored seeds are
 * bounded at {@link MAX_MESSAGE_KEYS} per session (oldest dropped first; libsignal bounds 2,000 per chain and 5
 * chains), and no message may jump more than {@link MAX_FORWARD_JUMPS} ahead in a chain (libsignal's bound).
 * A record keeps up to {@link MAX_ARCHIVED_STATES} earlier sessions (simultaneous initiation, re-installs).
 */
import {
  dropOldestSkippedKeys,
  MAX_MESSAGE_KEYS,
  type MessageChain,
  skipMessageKeys,
  takeMessageKeySeed,
} from './chain.ts';
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoErrorCode } from './errors.ts';
import { SERIALIZED_KEM_CIPHERTEXT_BYTES } from './kem.ts';
import { ED25519_PUBLIC_KEY_BYTES, KeyPair, X25519_PRIVATE_KEY_BYTES, X25519_PUBLIC_KEY_BYTES } from './keys.ts';
import { encodeSignalMessageHeader, type PqPreKeyUse, type SignalMessage } from './messages.ts';
import {
  CHAIN_KEY_BYTES,
  deriveMessageKeys,
  deriveRootChain,
  MESSAGE_KEY_SEED_BYTES,
  messageKeySeed,
  nextChainKey,
  openWithMessageKeys,
  ROOT_KEY_BYTES,
  sealWithMessageKeys,
} from './ratchet.ts';
import { concatBytes, constantTimeEqual, publicBytesEqual } from './sodium.ts';

/**
 * Closed receiving chains remembered without any skipped key, only so that a replay from them is reported as a
 * duplicate (older replays fail as invalid messages). libsignal keeps 5 receiving chains in all.
 */
export const MAX_CLOSED_CHAINS = 32;
/** libsignal's ARCHIVED_STATES_MAX_LENGTH. */
export const MAX_ARCHIVED_STATES = 40;
/**
 * Version of the storage format of {@link SessionRecord}. Version 2 appends to each state whether it came
 * from PQXDH and, until the responder answers, the PQ prekey id and KEM ciphertext the initiator resends.
 * Version 1 records (all classical) stay readable.
 */
export const SESSION_RECORD_VERSION = 2;

interface SenderChain {
  ratchetKey: KeyPair;
  chainKey: Uint8Array;
  index: number;
}

/** A receiving chain; closed (chain key erased) once the ratchet turned past it. */
interface ReceiverChain extends MessageChain {
  ratchetKey: Uint8Array;
}

/** What the initiator keeps sending in PreKeySignalMessages until the responder answers. */
export interface PendingPreKey {
  preKeyId: number | undefined;
  signedPreKeyId: number;
  baseKey: Uint8Array;
  /** PQXDH sessions: the ML-KEM prekey used and the ciphertext, sent with every prekey message. */
  pq: PqPreKeyUse | undefined;
}

export interface SessionStateFields {
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  localRegistrationId: number;
  remoteRegistrationId: number;
  rootKey: Uint8Array;
  sender: SenderChain;
  previousCounter: number;
  receivers: ReceiverChain[];
  pendingPreKey: PendingPreKey | undefined;
  /** The initiator's base key: names the session on both sides, spots re-sent prekey messages. */
  baseKey: Uint8Array;
  /** True when the session was agreed with PQXDH (an ML-KEM secret in the KDF), false for classical X3DH. */
  postQuantum: boolean;
}

export class SessionState {
  readonly #f: SessionStateFields;

  private constructor(fields: SessionStateFields) {
    this.#f = fields;
  }

  /** A new state: only for the session builders in `session.ts`. */
  static create(fields: SessionStateFields): SessionState {
    return new SessionState(fields);
  }

  get localIdentity(): Uint8Array {
    return this.#f.localIdentity;
  }

  get remoteIdentity(): Uint8Array {
    return this.#f.remoteIdentity;
  }

  get remoteRegistrationId(): number {
    return this.#f.remoteRegistrationId;
  }

  get baseKey(): Uint8Array {
    return this.#f.baseKey;
  }

  get pendingPreKey(): PendingPreKey | undefined {
    return this.#f.pendingPreKey;
  }

  /** Whether this session's initial key agreement was PQXDH. */
  get postQuantum(): boolean {
    return this.#f.postQuantum;
  }

  /** The sending chain key: exposed for tests that compare with libsignal. */
  get senderChainKey(): Uint8Array {
    return this.#f.sender.chainKey.slice();
  }

  clone(): SessionState {
    const f = this.#f;
    return new SessionState({
      ...f,
      sender: { ...f.sender },
      receivers: f.receivers.map((chain) => ({ ...chain, skipped: new Map(chain.skipped) })),
    });
  }

  /** Encrypts one message on the sending chain and advances it. Returns the serialised SignalMessage. */
  encrypt(plaintext: Uint8Array): Uint8Array {
    const f = this.#f;
    const keys = deriveMessageKeys(messageKeySeed(f.sender.chainKey));
    const header = encodeSignalMessageHeader(f.sender.ratchetKey.publicKey.raw(), f.sender.index, f.previousCounter);
    const ciphertext = sealWithMessageKeys(keys, plaintext, concatBytes(header, f.localIdentity, f.remoteIdentity));
    f.sender = { ...f.sender, chainKey: nextChainKey(f.sender.chainKey), index: f.sender.index + 1 };
    return concatBytes(header, ciphertext);
  }

  /**
   * Decrypts `message`, turning the DH ratchet if it carries a new ratchet key. Mutates this state even when
   * it throws: callers decrypt on a {@link clone} and keep it only on success.
   */
  decrypt(message: SignalMessage): Uint8Array {
    const f = this.#f;
    // Ratchet keys are public: a plain comparison, newest chain first.
    let chain = f.receivers.findLast((c) => publicBytesEqual(c.ratchetKey, message.ratchetKey));
    if (chain === undefined) chain = this.#turnRatchet(message);
    const seed = takeMessageKeySeed(chain, message.counter);
    this.#boundSkippedKeys();
    const keys = deriveMessageKeys(seed);
    const associatedData = concatBytes(message.header, f.remoteIdentity, f.localIdentity);
    const plaintext = openWithMessageKeys(keys, message.ciphertext, associatedData);
    f.pendingPreKey = undefined;
    return plaintext;
  }

  #turnRatchet(message: SignalMessage): ReceiverChain {
    const f = this.#f;
    const theirRatchetKey = message.ratchetKey;
    // Close the chain we are leaving: keep keys for what was sent on it but has not arrived, erase its key.
    const leaving = f.receivers.at(-1);
    if (leaving !== undefined) {
      skipMessageKeys(leaving, message.previousCounter);
      leaving.chainKey = undefined;
    }
    const receiving = deriveRootChain(f.rootKey, f.sender.ratchetKey.agreeRaw(theirRatchetKey));
    const ourNewRatchetKey = KeyPair.generate();
    const sending = deriveRootChain(receiving.rootKey, ourNewRatchetKey.agreeRaw(theirRatchetKey));
    const chain: ReceiverChain = {
      ratchetKey: theirRatchetKey.slice(),
      chainKey: receiving.chainKey,
      index: 0,
      skipped: new Map(),
    };
    f.receivers.push(chain);
    this.#pruneClosedChains();
    f.previousCounter = f.sender.index;
    f.rootKey = sending.rootKey;
    f.sender = { ratchetKey: ourNewRatchetKey, chainKey: sending.chainKey, index: 0 };
    return chain;
  }

  /** Keeps at most {@link MAX_MESSAGE_KEYS} skipped seeds in the session, and prunes closed chains. */
  #boundSkippedKeys(): void {
    dropOldestSkippedKeys(this.#f.receivers);
    this.#pruneClosedChains();
  }

  /** Forgets the oldest closed chains that hold no skipped key, beyond {@link MAX_CLOSED_CHAINS}. */
  #pruneClosedChains(): void {
    const f = this.#f;
    let empty = 0;
    for (const c of f.receivers) if (c.chainKey === undefined && c.skipped.size === 0) empty++;
    if (empty <= MAX_CLOSED_CHAINS) return;
    f.receivers = f.receivers.filter((c) => {
      if (c.chainKey !== undefined || c.skipped.size > 0 || empty <= MAX_CLOSED_CHAINS) return true;
      empty--;
      return false;
    });
  }

  serializeInto(writer: ByteWriter): void {
    const f = this.#f;
    writer
      .fixed(f.localIdentity)
      .fixed(f.remoteIdentity)
      .u32(f.localRegistrationId)
      .u32(f.remoteRegistrationId)
      .fixed(f.rootKey)
      .fixed(f.sender.ratchetKey.publicKey.raw())
      .fixed(f.sender.ratchetKey.privateKeyBytes())
      .fixed(f.sender.chainKey)
      .u32(f.sender.index)
      .u32(f.previousCounter)
      .fixed(f.baseKey)
      .bool(f.pendingPreKey !== undefined);
    if (f.pendingPreKey !== undefined) {
      const pending = f.pendingPreKey;
      writer.bool(pending.preKeyId !== undefined).u32(pending.preKeyId ?? 0);
      writer.u32(pending.signedPreKeyId).fixed(pending.baseKey);
    }
    writer.u16(f.receivers.length);
    for (const chain of f.receivers) {
      writer.fixed(chain.ratchetKey).bool(chain.chainKey !== undefined);
      if (chain.chainKey !== undefined) writer.fixed(chain.chainKey);
      writer.u32(chain.index).u32(chain.skipped.size);
      for (const [counter, seed] of chain.skipped) writer.u32(counter).fixed(seed);
    }
    // Version 2 fields.
    const pq = f.pendingPreKey?.pq;
    writer.bool(f.postQuantum).bool(pq !== undefined);
    if (pq !== undefined) writer.u32(pq.pqPreKeyId).fixed(pq.kemCiphertext);
  }

  static deserializeFrom(reader: ByteReader, version: number): SessionState {
    const localIdentity = reader.fixed(ED25519_PUBLIC_KEY_BYTES);
    const remoteIdentity = reader.fixed(ED25519_PUBLIC_KEY_BYTES);
    const localRegistrationId = reader.u32();
    const remoteRegistrationId = reader.u32();
    const rootKey = reader.fixed(ROOT_KEY_BYTES);
    const ratchetPublic = reader.fixed(X25519_PUBLIC_KEY_BYTES);
    const ratchetPrivate = reader.fixed(X25519_PRIVATE_KEY_BYTES);
    const sender = {
      ratchetKey: KeyPair.fromStored(ratchetPublic, ratchetPrivate),
      chainKey: reader.fixed(CHAIN_KEY_BYTES),
      index: reader.u32(),
    };
    const previousCounter = reader.u32();
    const baseKey = reader.fixed(X25519_PUBLIC_KEY_BYTES);
    let pendingPreKey: PendingPreKey | undefined;
    if (reader.bool()) {
      const hasPreKey = reader.bool();
      const preKeyId = reader.u32();
      pendingPreKey = {
        preKeyId: hasPreKey ? preKeyId : undefined,
        signedPreKeyId: reader.u32(),
        baseKey: reader.fixed(X25519_PUBLIC_KEY_BYTES),
        pq: undefined,
      };
    }
    const receiverCount = reader.u16();
    if (receiverCount > MAX_MESSAGE_KEYS + MAX_CLOSED_CHAINS + 1) reader.fail('too many receiver chains');
    const receivers: ReceiverChain[] = [];
    for (let i = 0; i < receiverCount; i++) {
      const ratchetKey = reader.fixed(X25519_PUBLIC_KEY_BYTES);
      const chainKey = reader.bool() ? reader.fixed(CHAIN_KEY_BYTES) : undefined;
      const index = reader.u32();
      const skippedCount = reader.u32();
      if (skippedCount > MAX_MESSAGE_KEYS) reader.fail('too many skipped message keys');
      const skipped = new Map<number, Uint8Array>();
      for (let k = 0; k < skippedCount; k++) skipped.set(reader.u32(), reader.fixed(MESSAGE_KEY_SEED_BYTES));
      receivers.push({ ratchetKey, chainKey, index, skipped });
    }
    let postQuantum = false;
    if (version >= 2) {
      postQuantum = reader.bool();
      if (reader.bool()) {
        const pq = { pqPreKeyId: reader.u32(), kemCiphertext: reader.fixed(SERIALIZED_KEM_CIPHERTEXT_BYTES) };
        if (pendingPreKey === undefined) reader.fail('PQ prekey use without a pending prekey');
        pendingPreKey.pq = pq;
      }
    }
    return new SessionState({
      localIdentity,
      remoteIdentity,
      localRegistrationId,
      remoteRegistrationId,
      rootKey,
      sender,
      previousCounter,
      receivers,
      pendingPreKey,
      baseKey,
      postQuantum,
    });
  }
}

/** A device's sessions with one remote address: the current one and a few archived ones. */
export class SessionRecord {
  #current: SessionState | undefined;
  #previous: SessionState[];

  private constructor(current: SessionState | undefined, previous: SessionState[]) {
    this.#current = current;
    this.#previous = previous;
  }

  static empty(): SessionRecord {
    return new SessionRecord(undefined, []);
  }

  get current(): SessionState | undefined {
    return this.#current;
  }

  /** Archived states, newest first. */
  get previous(): readonly SessionState[] {
    return this.#previous;
  }

  /** Makes `state` current, archiving the old current state. */
  promote(state: SessionState): void {
    if (this.#current !== undefined) this.#previous.unshift(this.#current);
    if (this.#previous.length > MAX_ARCHIVED_STATES) this.#previous.length = MAX_ARCHIVED_STATES;
    this.#current = state;
  }

  /** Replaces the archived state at `index` by a newer version of it and makes it current. */
  promoteArchived(index: number, state: SessionState): void {
    this.#previous.splice(index, 1);
    this.promote(state);
  }

  replaceCurrent(state: SessionState): void {
    this.#current = state;
  }

  /** Moves the current session to the archive (e.g. when the peer's identity changed). */
  archiveCurrent(): void {
    if (this.#current === undefined) return;
    this.#previous.unshift(this.#current);
    if (this.#previous.length > MAX_ARCHIVED_STATES) this.#previous.length = MAX_ARCHIVED_STATES;
    this.#current = undefined;
  }

  /** Finds a state (current or archived) created from the initiator's base key `baseKey`. */
  /** True when any state (current or archived) came from PQXDH: a later classical bundle is a downgrade. */
  get hasPostQuantumState(): boolean {
    return this.#current?.postQuantum === true || this.#previous.some((state) => state.postQuantum);
  }

  findByBaseKey(baseKey: Uint8Array): SessionState | undefined {
    if (this.#current !== undefined && constantTimeEqual(this.#current.baseKey, baseKey)) return this.#current;
    return this.#previous.find((state) => constantTimeEqual(state.baseKey, baseKey));
  }

  serialize(): Uint8Array {
    const writer = new ByteWriter(1024).u8(SESSION_RECORD_VERSION).bool(this.#current !== undefined);
    this.#current?.serializeInto(writer);
    writer.u8(this.#previous.length);
    for (const state of this.#previous) state.serializeInto(writer);
    return writer.finish();
  }

  static deserialize(bytes: Uint8Array): SessionRecord {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    const version = readVersion(reader, 'session record', SESSION_RECORD_VERSION);
    const current = reader.bool() ? SessionState.deserializeFrom(reader, version) : undefined;
    const previousCount = reader.u8();
    if (previousCount > MAX_ARCHIVED_STATES) reader.fail('too many archived sessions');
    const previous: SessionState[] = [];
    for (let i = 0; i < previousCount; i++) previous.push(SessionState.deserializeFrom(reader, version));
    reader.end();
    return new SessionRecord(current, previous);
  }
}
