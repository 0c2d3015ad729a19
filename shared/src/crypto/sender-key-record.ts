/**
 * Sender-key state (libsignal's SenderKeyState / SenderKeyRecord): per sender device and distribution, a
 * symmetric chain and the Ed25519 key that signs every message on it. The sender holds the signing private
 * key; receivers hold only the public half. A record keeps the {@link MAX_SENDER_KEY_STATES} newest chains so
 * that messages sent just before a rotation still decrypt.
 */
import { MAX_MESSAGE_KEYS, type MessageChain } from './chain.ts';
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoErrorCode } from './errors.ts';
import { ED25519_PUBLIC_KEY_BYTES } from './keys.ts';
import { CHAIN_KEY_BYTES, MESSAGE_KEY_SEED_BYTES } from './ratchet.ts';

/** libsignal's MAX_SENDER_KEY_STATES. */
export const MAX_SENDER_KEY_STATES = 5;
/** Version of the storage format of {@link SenderKeyRecord}. */
export const SENDER_KEY_RECORD_VERSION = 1;
export const ED25519_SECRET_KEY_BYTES = 64;

/** A sender chain; `index` is libsignal's "iteration". Sender chains are never closed. */
export interface SenderKeyState extends MessageChain {
  chainId: number;
  chainKey: Uint8Array;
  signingPublicKey: Uint8Array;
  /** Present only in the sender's own record. */
  signingPrivateKey: Uint8Array | undefined;
}

export class SenderKeyRecord {
  /** Newest first. */
  readonly #states: SenderKeyState[];

  private constructor(states: SenderKeyState[]) {
    this.#states = states;
  }

  static empty(): SenderKeyRecord {
    return new SenderKeyRecord([]);
  }

  get states(): readonly SenderKeyState[] {
    return this.#states;
  }

  /** The newest state: the one a sender encrypts with. */
  get current(): SenderKeyState | undefined {
    return this.#states[0];
  }

  stateFor(chainId: number): SenderKeyState | undefined {
    return this.#states.find((state) => state.chainId === chainId);
  }

  /** Adds `state` as the newest, replacing one with the same chain id and dropping the oldest beyond the cap. */
  add(state: SenderKeyState): void {
    const existing = this.#states.findIndex((s) => s.chainId === state.chainId);
    if (existing >= 0) this.#states.splice(existing, 1);
    this.#states.unshift(state);
    if (this.#states.length > MAX_SENDER_KEY_STATES) this.#states.length = MAX_SENDER_KEY_STATES;
  }

  /** Forgets every state: a sender's record after rotation keeps only the new chain. */
  clear(): void {
    this.#states.length = 0;
  }

  serialize(): Uint8Array {
    const writer = new ByteWriter(256).u8(SENDER_KEY_RECORD_VERSION).u8(this.#states.length);
    for (const state of this.#states) {
      writer
        .u32(state.chainId)
        .u32(state.index)
        .fixed(state.chainKey)
        .fixed(state.signingPublicKey)
        .bool(state.signingPrivateKey !== undefined);
      if (state.signingPrivateKey !== undefined) writer.fixed(state.signingPrivateKey);
      writer.u32(state.skipped.size);
      for (const [index, seed] of state.skipped) writer.u32(index).fixed(seed);
    }
    return writer.finish();
  }

  static deserialize(bytes: Uint8Array): SenderKeyRecord {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    readVersion(reader, 'sender key record', SENDER_KEY_RECORD_VERSION);
    const count = reader.u8();
    if (count > MAX_SENDER_KEY_STATES) reader.fail('too many sender key states');
    const states: SenderKeyState[] = [];
    for (let i = 0; i < count; i++) {
      const chainId = reader.u32();
      const index = reader.u32();
      const chainKey = reader.fixed(CHAIN_KEY_BYTES);
      const signingPublicKey = reader.fixed(ED25519_PUBLIC_KEY_BYTES);
      const signingPrivateKey = reader.bool() ? reader.fixed(ED25519_SECRET_KEY_BYTES) : undefined;
      const skippedCount = reader.u32();
      if (skippedCount > MAX_MESSAGE_KEYS) reader.fail('too many skipped message keys');
      const skipped = new Map<number, Uint8Array>();
      for (let k = 0; k < skippedCount; k++) skipped.set(reader.u32(), reader.fixed(MESSAGE_KEY_SEED_BYTES));
      states.push({ chainId, index, chainKey, signingPublicKey, signingPrivateKey, skipped });
    }
    reader.end();
    return new SenderKeyRecord(states);
  }
}
