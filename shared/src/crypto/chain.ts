/**
 * A receiving symmetric-key chain with its skipped message keys: shared by the Double Ratchet's receiving
 * chains and by Sender Keys. Seeds of skipped keys are kept (the message keys are derived from a seed when it is
 * used), and the bounds are libsignal's.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { messageKeySeed, nextChainKey } from './ratchet.ts';

/** libsignal's MAX_MESSAGE_KEYS (2,000): skipped keys stored per session (Double Ratchet) or per sender chain. */
export const MAX_MESSAGE_KEYS = 2000;
/** libsignal's MAX_FORWARD_JUMPS: the largest gap in one chain we are willing to skip. */
export const MAX_FORWARD_JUMPS = 25_000;

export interface MessageChain {
  /** Undefined once the chain is closed: only its skipped seeds remain. */
  chainKey: Uint8Array | undefined;
  /** Counter of the next message key the chain key would give. */
  index: number;
  /** Skipped message-key seeds by counter, oldest first. */
  skipped: Map<number, Uint8Array>;
}

/** Stores the seeds of `chain`'s keys up to (not including) `until`, advancing the chain to `until`. */
export function skipMessageKeys(chain: MessageChain, until: number): void {
  if (chain.chainKey === undefined || until <= chain.index) return;
  if (until - chain.index > MAX_FORWARD_JUMPS) {
    throw new CryptoError(
      CryptoErrorCode.TooManySkippedMessages,
      `message ${until} is ${until - chain.index} ahead of its chain (max ${MAX_FORWARD_JUMPS})`,
    );
  }
  let chainKey = chain.chainKey;
  for (let index = chain.index; index < until; index++) {
    chain.skipped.set(index, messageKeySeed(chainKey));
    chainKey = nextChainKey(chainKey);
  }
  chain.chainKey = chainKey;
  chain.index = until;
}

/**
 * The message-key seed for `counter`: a stored skipped one (used once, then forgotten), or derived by advancing
 * the chain. A counter behind the chain without a stored seed is a {@link CryptoErrorCode.DuplicateMessage}.
 */
export function takeMessageKeySeed(chain: MessageChain, counter: number): Uint8Array {
  if (counter < chain.index) {
    const seed = chain.skipped.get(counter);
    if (seed === undefined) {
      throw new CryptoError(CryptoErrorCode.DuplicateMessage, `message ${counter} was already received`);
    }
    chain.skipped.delete(counter);
    return seed;
  }
  skipMessageKeys(chain, counter);
  if (chain.chainKey === undefined) {
    throw new CryptoError(CryptoErrorCode.InvalidMessage, `message ${counter} is beyond the end of a closed chain`);
  }
  const seed = messageKeySeed(chain.chainKey);
  chain.chainKey = nextChainKey(chain.chainKey);
  chain.index = counter + 1;
  return seed;
}

/** Drops the oldest skipped seeds of `chains` (oldest chain first) until at most `max` remain in all. */
export function dropOldestSkippedKeys(chains: readonly MessageChain[], max: number = MAX_MESSAGE_KEYS): void {
  let total = 0;
  for (const chain of chains) total += chain.skipped.size;
  for (const chain of chains) {
    for (const counter of chain.skipped.keys()) {
      if (total <= max) return;
      chain.skipped.delete(counter);
      total--;
    }
  }
}
