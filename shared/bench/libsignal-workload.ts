/**
 * The benchmark workload on @signalapp/libsignal-client (AGPL, a dev dependency used only here), with in-memory
 * stores that keep serialised records, as ours do. Loaded dynamically so the benchmark still runs, and says
 * so, when the native binary is unavailable.
 */
import { createRequire } from 'node:module';
import type * as Signal from '@signalapp/libsignal-client';

type Lib = typeof Signal;
type Bytes = Uint8Array<ArrayBuffer>;

export async function loadLibsignal(): Promise<{ lib: Lib; version: string } | string> {
  try {
    const lib = await import('@signalapp/libsignal-client');
    const version: unknown = createRequire(import.meta.url)('@signalapp/libsignal-client/package.json').version;
    return { lib, version: String(version) };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function libsignalDevice(lib: Lib, name: string, deviceId: number) {
  const identity = lib.IdentityKeyPair.generate();
  const registrationId = 1 + Math.floor(Math.random() * 16000);
  const address = lib.ProtocolAddress.new(name, deviceId);

  class Sessions extends lib.SessionStore {
    readonly map = new Map<string, Bytes>();
    async saveSession(a: Signal.ProtocolAddress, record: Signal.SessionRecord) {
      this.map.set(a.toString(), record.serialize());
    }
    async getSession(a: Signal.ProtocolAddress) {
      const bytes = this.map.get(a.toString());
      return bytes === undefined ? null : lib.SessionRecord.deserialize(bytes);
    }
    async getExistingSessions(addresses: Signal.ProtocolAddress[]) {
      const out: Signal.SessionRecord[] = [];
      for (const a of addresses) {
        const record = await this.getSession(a);
        if (record === null) throw new Error(`no session for ${a.toString()}`);
        out.push(record);
      }
      return out;
    }
  }
  class Identities extends lib.IdentityKeyStore {
    readonly known = new Map<string, Signal.PublicKey>();
    async getIdentityKey() {
      return identity.privateKey;
    }
    async getLocalRegistrationId() {
      return registrationId;
    }
    async saveIdentity(a: Signal.ProtocolAddress, key: Signal.PublicKey) {
      const old = this.known.get(a.toString());
      this.known.set(a.toString(), key);
      return old !== undefined && !old.equals(key)
        ? lib.IdentityChange.ReplacedExisting
        : lib.IdentityChange.NewOrUnchanged;
    }
    async isTrustedIdentity(a: Signal.ProtocolAddress, key: Signal.PublicKey) {
      const old = this.known.get(a.toString());
      return old === undefined || old.equals(key);
    }
    async getIdentity(a: Signal.ProtocolAddress) {
      return this.known.get(a.toString()) ?? null;
    }
  }
  class PreKeys extends lib.PreKeyStore {
    readonly map = new Map<number, Bytes>();
    async savePreKey(id: number, record: Signal.PreKeyRecord) {
      this.map.set(id, record.serialize());
    }
    async getPreKey(id: number) {
      const bytes = this.map.get(id);
      if (bytes === undefined) throw new Error(`no prekey ${id}`);
      return lib.PreKeyRecord.deserialize(bytes);
    }
    async removePreKey(id: number) {
      this.map.delete(id);
    }
  }
  class SignedPreKeys extends lib.SignedPreKeyStore {
    readonly map = new Map<number, Bytes>();
    async saveSignedPreKey(id: number, record: Signal.SignedPreKeyRecord) {
      this.map.set(id, record.serialize());
    }
    async getSignedPreKey(id: number) {
      const bytes = this.map.get(id);
      if (bytes === undefined) throw new Error(`no signed prekey ${id}`);
      return lib.SignedPreKeyRecord.deserialize(bytes);
    }
  }
  class KyberPreKeys extends lib.KyberPreKeyStore {
    readonly map = new Map<number, Bytes>();
    async saveKyberPreKey(id: number, record: Signal.KyberPreKeyRecord) {
      this.map.set(id, record.serialize());
    }
    async getKyberPreKey(id: number) {
      const bytes = this.map.get(id);
      if (bytes === undefined) throw new Error(`no kyber prekey ${id}`);
      return lib.KyberPreKeyRecord.deserialize(bytes);
    }
    async markKyberPreKeyUsed() {}
  }
  class SenderKeys extends lib.SenderKeyStore {
    readonly map = new Map<string, Bytes>();
    async saveSenderKey(a: Signal.ProtocolAddress, id: string, record: Signal.SenderKeyRecord) {
      this.map.set(`${a.toString()}::${id}`, record.serialize());
    }
    async getSenderKey(a: Signal.ProtocolAddress, id: string) {
      const bytes = this.map.get(`${a.toString()}::${id}`);
      return bytes === undefined ? null : lib.SenderKeyRecord.deserialize(bytes);
    }
  }

  const stores = {
    sessions: new Sessions(),
    identities: new Identities(),
    preKeys: new PreKeys(),
    signedPreKeys: new SignedPreKeys(),
    kyberPreKeys: new KyberPreKeys(),
    senderKeys: new SenderKeys(),
  };
  let nextId = 1;

  return {
    address,
    identity,
    stores,
    /** A fresh bundle (one-time, signed and Kyber prekey), its private halves stored. */
    async bundle(): Promise<Signal.PreKeyBundle> {
      const id = nextId++;
      const preKey = lib.PrivateKey.generate();
      await stores.preKeys.savePreKey(id, lib.PreKeyRecord.new(id, preKey.getPublicKey(), preKey));
      const signed = lib.PrivateKey.generate();
      const signature = identity.privateKey.sign(signed.getPublicKey().serialize());
      await stores.signedPreKeys.saveSignedPreKey(
        id,
        lib.SignedPreKeyRecord.new(id, Date.now(), signed.getPublicKey(), signed, signature),
      );
      const kyber = lib.KEMKeyPair.generate();
      const kyberSignature = identity.privateKey.sign(kyber.getPublicKey().serialize());
      await stores.kyberPreKeys.saveKyberPreKey(id, lib.KyberPreKeyRecord.new(id, Date.now(), kyber, kyberSignature));
      return lib.PreKeyBundle.new(
        registrationId,
        deviceId,
        id,
        preKey.getPublicKey(),
        id,
        signed.getPublicKey(),
        signature,
        identity.publicKey,
        id,
        kyber.getPublicKey(),
        kyberSignature,
      );
    },
    async encrypt(to: Signal.ProtocolAddress, plaintext: Bytes): Promise<Signal.CiphertextMessage> {
      return lib.signalEncrypt(plaintext, to, address, stores.sessions, stores.identities);
    },
    async decrypt(from: Signal.ProtocolAddress, message: Signal.CiphertextMessage): Promise<Bytes> {
      const bytes = message.serialize();
      if (message.type() === lib.CiphertextMessageType.PreKey) {
        return lib.signalDecryptPreKey(
          lib.PreKeySignalMessage.deserialize(bytes),
          from,
          address,
          stores.sessions,
          stores.identities,
          stores.preKeys,
          stores.signedPreKeys,
          stores.kyberPreKeys,
        );
      }
      return lib.signalDecrypt(lib.SignalMessage.deserialize(bytes), from, address, stores.sessions, stores.identities);
    },
  };
}

export type LibsignalDevice = ReturnType<typeof libsignalDevice>;
