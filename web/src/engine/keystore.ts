/**
 * The crypto library's store ports (PQXDH's ML-KEM prekeys among them) over the local tables (IndexedDB, or
 * memory in tests). Records are stored as their `serialize()` bytes and read back with `deserialize()`, so
 * every load is a private copy, as the ports require.
 */
import {
  IdentityKey,
  type IdentityKeyPair,
  type IdentityKeyStore,
  lastResortUseKey,
  PqPreKeyRecord,
  type PqPreKeyStore,
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

/** PQ prekey records share the prekey table under string keys, which never meet its numeric ones. */
export const pqRecordKey = (id: number) => `pq:${id}`;

/**
 * PQXDH's ML-KEM prekeys. A one-time key is removed once used; the last-resort one stays, and each use of it
 * (key id, signed prekey id, the initiator's base key) is remembered in `meta` under `pq-used:...`, so a
 * replayed first message is refused (libsignal's KyberPreKeyStore does the same).
 */
class TablePqPreKeyStore implements PqPreKeyStore {
  constructor(private readonly db: Tables) {}
  async loadPqPreKey(id: number): Promise<PqPreKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.preKeys, pqRecordKey(id));
    return bytes === undefined ? undefined : PqPreKeyRecord.deserialize(bytes);
  }
  async storePqPreKey(id: number, record: PqPreKeyRecord): Promise<void> {
    await this.db.put(STORES.preKeys, record.serialize(), pqRecordKey(id));
  }
  async markPqPreKeyUsed(id: number, signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean> {
    const record = await this.loadPqPreKey(id);
    if (record === undefined) return true;
    if (!record.lastResort) {
      await this.db.delete(STORES.preKeys, pqRecordKey(id));
      return true;
    }
    const use = `pq-used:${lastResortUseKey(id, signedPreKeyId, baseKey)}`;
    if ((await this.db.get<boolean>(STORES.meta, use)) === true) return false;
    await this.db.put(STORES.meta, true, use);
    return true;
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
    pqPreKeys: new TablePqPreKeyStore(db),
    sessions: new TableSessionStore(db),
    senderKeys: new TableSenderKeyStore(db),
  };
}
