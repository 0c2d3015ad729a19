/**
 * The crypto library's store ports over the local tables (IndexedDB, or memory in tests). Records are stored
 * as their `serialize()` bytes and read back with `deserialize()`, so every load is a private copy, as the
 * ports require.
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
import { STORES, type Tables } from './tables.ts';

class TableIdentityKeyStore implements IdentityKeyStore {
  constructor(
    private readonly db: Tables,
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

class TablePreKeyStore implements PreKeyStore {
  constructor(private readonly db: Tables) {}
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

class TableSignedPreKeyStore implements SignedPreKeyStore {
  constructor(private readonly db: Tables) {}
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

class TableSessionStore implements SessionStore {
  constructor(private readonly db: Tables) {}
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

class TableSenderKeyStore implements SenderKeyStore {
  constructor(private readonly db: Tables) {}
  async loadSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.senderKeys, `${sender.toString()}::${distributionId}`);
    return bytes === undefined ? undefined : SenderKeyRecord.deserialize(bytes);
  }
  async storeSenderKey(sender: ProtocolAddress, distributionId: string, record: SenderKeyRecord): Promise<void> {
    await this.db.put(STORES.senderKeys, record.serialize(), `${sender.toString()}::${distributionId}`);
  }
}

export interface DeviceStores extends ProtocolStores {
  sessions: TableSessionStore;
  senderKeys: SenderKeyStore;
}

export function deviceStores(db: Tables, identity: IdentityKeyPair, registrationId: number): DeviceStores {
  return {
    identities: new TableIdentityKeyStore(db, identity, registrationId),
    preKeys: new TablePreKeyStore(db),
    signedPreKeys: new TableSignedPreKeyStore(db),
    sessions: new TableSessionStore(db),
    senderKeys: new TableSenderKeyStore(db),
  };
}
