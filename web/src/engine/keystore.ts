/**
 * The crypto library's store ports over IndexedDB. Records are stored as their `serialize()` bytes and read
 * back with `deserialize()`, so every load is a private copy, as the ports require.
 */
import {
  IdentityKey,
  type IdentityKeyPair,
  type IdentityKeyStore,
  PreKeyRecord,
  type PreKeyStore,
  type ProtocolAddress,
  type ProtocolStores,
  SenderKeyRecord,
  type SenderKeyStore,
  SessionRecord,
  type SessionStore,
  SignedPreKeyRecord,
  type SignedPreKeyStore,
} from '@ciphertalk/shared/crypto';
import { type Idb, STORES } from './idb.ts';
import { IdbPqPreKeyStore } from './pq-keys.ts';

class IdbIdentityKeyStore implements IdentityKeyStore {
  constructor(
    private readonly db: Idb,
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
  ) {}

  async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.identity;
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }

  async saveIdentity(address: ProtocolAddress, key: IdentityKey): Promise<boolean> {
    const previous = await this.getIdentity(address);
    await this.db.put(STORES.identities, key.serialize(), address.toString());
    return previous !== undefined && !previous.equals(key);
  }

  /** Trust on first use per device address; device numbers are never reused, so a change is suspicious. */
  async isTrustedIdentity(address: ProtocolAddress, key: IdentityKey): Promise<boolean> {
    const known = await this.getIdentity(address);
    return known === undefined || known.equals(key);
  }

  async getIdentity(address: ProtocolAddress): Promise<IdentityKey | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.identities, address.toString());
    return bytes === undefined ? undefined : IdentityKey.deserialize(bytes);
  }
}

class IdbPreKeyStore implements PreKeyStore {
  constructor(private readonly db: Idb) {}
  async loadPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.preKeys, id);
    return bytes === undefined ? undefined : PreKeyRecord.deserialize(bytes);
  }
  async storePreKey(id: number, record: PreKeyRecord): Promise<void> {
    await this.db.put(STORES.preKeys, record.serialize(), id);
  }
  async removePreKey(id: number): Promise<void> {
    await this.db.delete(STORES.preKeys, id);
  }
}

class IdbSignedPreKeyStore implements SignedPreKeyStore {
  constructor(private readonly db: Idb) {}
  async loadSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.signedPreKeys, id);
    return bytes === undefined ? undefined : SignedPreKeyRecord.deserialize(bytes);
  }
  async storeSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    await this.db.put(STORES.signedPreKeys, record.serialize(), id);
  }
  async removeSignedPreKey(id: number): Promise<void> {
    await this.db.delete(STORES.signedPreKeys, id);
  }
}

class IdbSessionStore implements SessionStore {
  constructor(private readonly db: Idb) {}
  async loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.sessions, address.toString());
    return bytes === undefined ? undefined : SessionRecord.deserialize(bytes);
  }
  async storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    await this.db.put(STORES.sessions, record.serialize(), address.toString());
  }
  async deleteSession(address: ProtocolAddress): Promise<void> {
    await this.db.delete(STORES.sessions, address.toString());
  }
}

class IdbSenderKeyStore implements SenderKeyStore {
  constructor(private readonly db: Idb) {}
  async loadSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.senderKeys, `${sender.toString()}::${distributionId}`);
    return bytes === undefined ? undefined : SenderKeyRecord.deserialize(bytes);
  }
  async storeSenderKey(sender: ProtocolAddress, distributionId: string, record: SenderKeyRecord): Promise<void> {
    await this.db.put(STORES.senderKeys, record.serialize(), `${sender.toString()}::${distributionId}`);
  }
}

export interface DeviceStores extends ProtocolStores {
  sessions: IdbSessionStore;
  senderKeys: SenderKeyStore;
}

export function idbStores(db: Idb, identity: IdentityKeyPair, registrationId: number): DeviceStores {
  return {
    identities: new IdbIdentityKeyStore(db, identity, registrationId),
    preKeys: new IdbPreKeyStore(db),
    signedPreKeys: new IdbSignedPreKeyStore(db),
    pqPreKeys: new IdbPqPreKeyStore(db),
    sessions: new IdbSessionStore(db),
    senderKeys: new IdbSenderKeyStore(db),
  };
}
