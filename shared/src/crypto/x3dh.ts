/**
 * X3DH key agreement (signal.org/docs/specifications/x3dh), with libsignal's pre-Kyber KDF so that its
 * vectors (rust/protocol/tests/ratchet.rs) check it:
 *   SK = HKDF-SHA256(ikm = 0xFF * 32 || DH1 || DH2 || DH3 [|| DH4], no salt, info = "WhisperText", 64)
 *      -> root key (32) || chain key (32)
 * with DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B).
 *
 * PQXDH (signal.org/docs/specifications/pqxdh, revision 3, section 3.3) appends the ML-KEM shared secret
 * SS = Decaps(PQPK_B, CT) after the DH outputs, in the spec's order, and changes the info string to the
 * spec's `<info>_<curve>_<hash>_<pqkem>` form exactly as libsignal spells it:
 *   SK = HKDF-SHA256(ikm = 0xFF * 32 || DH1 || DH2 || DH3 [|| DH4] || SS, salt = 32 zero bytes,
 *                    info = "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024", 64)
 * (HKDF without a salt is HKDF with a hash-length zero salt, RFC 5869 section 2.2, which is what the spec
 * asks for.) libsignal keeps that info string for its ML-KEM-1024 keys, so the derivation is libsignal's.
 *
 * The functions here are pure: no stores, no randomness, which is what the known-answer tests need.
 * `session.ts` wires them to prekey bundles and stores.
 */
import { x25519 } from './keys.ts';
import { concatBytes, hkdfSha256, utf8 } from './sodium.ts';

/** X3DH's leading 32 0xFF bytes (the spec's F for X25519): domain separation from XEdDSA. */
export const X3DH_DISCONTINUITY_BYTES = 32;
export const X3DH_INFO = 'WhisperText';
export const X3DH_OUTPUT_BYTES = 64;
export const PQXDH_INFO = 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024';

/** An X25519 agreement with our private key (identity keys keep theirs inside `IdentityKeyPair`). */
export type Agree = (theirPublicKey: Uint8Array) => Uint8Array;

export interface InitialKeys {
  rootKey: Uint8Array;
  chainKey: Uint8Array;
}

/** The KDF of X3DH, or of PQXDH when `kemSharedSecret` is given (it goes last, after every DH output). */
function deriveInitialKeys(agreements: readonly Uint8Array[], kemSharedSecret: Uint8Array | undefined): InitialKeys {
  const discontinuity = new Uint8Array(X3DH_DISCONTINUITY_BYTES).fill(0xff);
  const ikm =
    kemSharedSecret === undefined
      ? concatBytes(discontinuity, ...agreements)
      : concatBytes(discontinuity, ...agreements, kemSharedSecret);
  const info = utf8(kemSharedSecret === undefined ? X3DH_INFO : PQXDH_INFO);
  const okm = hkdfSha256(ikm, undefined, info, X3DH_OUTPUT_BYTES);
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32) };
}

/** The initiator's side. All public keys are raw 32-byte X25519 keys. */
export function x3dhInitiator(params: {
  ourIdentity: Agree;
  ourBasePrivateKey: Uint8Array;
  theirIdentity: Uint8Array;
  theirSignedPreKey: Uint8Array;
  theirOneTimePreKey?: Uint8Array | undefined;
  /** PQXDH: the secret encapsulated to their ML-KEM prekey. */
  kemSharedSecret?: Uint8Array | undefined;
}): InitialKeys {
  const agreements = [
    params.ourIdentity(params.theirSignedPreKey),
    x25519(params.ourBasePrivateKey, params.theirIdentity),
    x25519(params.ourBasePrivateKey, params.theirSignedPreKey),
  ];
  if (params.theirOneTimePreKey !== undefined) {
    agreements.push(x25519(params.ourBasePrivateKey, params.theirOneTimePreKey));
  }
  return deriveInitialKeys(agreements, params.kemSharedSecret);
}

/** The responder's side, from the initiator's identity and base key carried by the first message. */
export function x3dhResponder(params: {
  ourIdentity: Agree;
  ourSignedPreKeyPrivateKey: Uint8Array;
  ourOneTimePreKeyPrivateKey?: Uint8Array | undefined;
  theirIdentity: Uint8Array;
  theirBaseKey: Uint8Array;
  /** PQXDH: the secret decapsulated from the initiator's ciphertext with our ML-KEM prekey. */
  kemSharedSecret?: Uint8Array | undefined;
}): InitialKeys {
  const agreements = [
    x25519(params.ourSignedPreKeyPrivateKey, params.theirIdentity),
    params.ourIdentity(params.theirBaseKey),
    x25519(params.ourSignedPreKeyPrivateKey, params.theirBaseKey),
  ];
  if (params.ourOneTimePreKeyPrivateKey !== undefined) {
    agreements.push(x25519(params.ourOneTimePreKeyPrivateKey, params.theirBaseKey));
  }
  return deriveInitialKeys(agreements, params.kemSharedSecret);
}
