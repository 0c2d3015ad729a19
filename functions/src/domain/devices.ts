import {
  type Device,
  ErrorCode,
  MAX_DEVICES_PER_USER,
  MAX_PREKEYS_STORED,
  type OneTimePreKey,
  type PreKeyBundle,
  type PublicDevice,
  type RegisterDeviceRequest,
  type SignedPqPreKey,
  type SignedPreKey,
} from '@ciphertalk/shared/protocol';
import type { Db } from '#ports/db.ts';
import { type AccountChangeDeps, audited } from './accounts.ts';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from './errors.ts';
import { isPublicPreKey, verifySignedPqPreKey, verifySignedPreKey } from './identity-keys.ts';
import { check, enforce } from './rate-limits.ts';
import { endSessions } from './session-end.ts';
import type { Principal, RequestMeta } from './sessions.ts';

export type DeviceDeps = Omit<AccountChangeDeps, 'passwords'>;

export class InvalidKeyError extends AppError {
  override readonly name = 'InvalidKeyError';
  constructor(message: string) {
    super(400, ErrorCode.InvalidKey, message);
  }
}

interface DeviceRow extends Record<string, unknown> {
  user_id: string;
  device_id: number;
  name: string;
  registration_id: string;
  identity_key: Buffer;
  signed_prekey_id: string;
  signed_prekey: Buffer;
  signed_prekey_signature: Buffer;
  created_at: Date;
  last_seen_at: Date;
  prekeys: string;
  pq_prekeys: string;
  pq_last_resort_prekey_id: string | null;
  pq_last_resort_prekey: Buffer | null;
  pq_last_resort_prekey_signature: Buffer | null;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (base64: string) => Buffer.from(base64, 'base64');

const DEVICE_COLUMNS = `d.user_id, d.device_id, d.name, d.registration_id, d.identity_key, d.signed_prekey_id,
  d.signed_prekey, d.signed_prekey_signature, d.created_at, d.last_seen_at,
  (SELECT count(*) FROM one_time_prekeys k WHERE k.user_id = d.user_id AND k.device_id = d.device_id) AS prekeys,
  (SELECT count(*) FROM one_time_pq_prekeys k WHERE k.user_id = d.user_id AND k.device_id = d.device_id) AS pq_prekeys,
  d.pq_last_resort_prekey_id`;

function toDevice(row: DeviceRow, principal: Principal): Device {
  return {
    deviceId: row.device_id,
    name: row.name,
    registrationId: Number(row.registration_id),
    identityKey: b64(row.identity_key),
    createdAt: row.created_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    current: row.device_id === principal.deviceId,
    preKeysRemaining: Number(row.prekeys),
    postQuantum: row.pq_last_resort_prekey_id !== null,
    pqPreKeysRemaining: Number(row.pq_prekeys),
  };
}

async function checkSignedPreKey(identityKey: Uint8Array, signedPreKey: SignedPreKey): Promise<void> {
  const ok = await verifySignedPreKey(identityKey, bytes(signedPreKey.publicKey), bytes(signedPreKey.signature));
  if (!ok) throw new InvalidKeyError("The signed prekey's signature does not verify with the identity key");
}

async function checkPreKeys(keys: readonly OneTimePreKey[]): Promise<void> {
  for (const key of keys) {
    if (!(await isPublicPreKey(bytes(key.publicKey)))) throw new InvalidKeyError(`Prekey ${key.keyId} is malformed`);
  }
}

/** Each PQ prekey must be an ML-KEM-1024 key signed by the device's identity key. */
async function checkPqPreKeys(identityKey: Uint8Array, keys: readonly SignedPqPreKey[]): Promise<void> {
  for (const key of keys) {
    if (!(await verifySignedPqPreKey(identityKey, bytes(key.publicKey), bytes(key.signature)))) {
      throw new InvalidKeyError(`PQ prekey ${key.keyId} is malformed or its signature does not verify`);
    }
  }
}

async function insertPreKeys(tx: Db, userId: string, deviceId: number, keys: readonly OneTimePreKey[]): Promise<void> {
  await insertKeys(
    tx,
    'one_time_prekeys (user_id, device_id, key_id, public_key)',
    [userId, deviceId],
    keys.map((key) => [key.keyId, bytes(key.publicKey)]),
  );
}

async function insertPqPreKeys(
  tx: Db,
  userId: string,
  deviceId: number,
  keys: readonly SignedPqPreKey[],
): Promise<void> {
  await insertKeys(
    tx,
    'one_time_pq_prekeys (user_id, device_id, key_id, public_key, signature)',
    [userId, deviceId],
    keys.map((key) => [key.keyId, bytes(key.publicKey), bytes(key.signature)]),
  );
}

/** One multi-row INSERT of a device's keys (`$1`, `$2` are the user and device); a duplicate id is a 409. */
async function insertKeys(tx: Db, into: string, device: unknown[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [...device];
  const values = rows.map((row) => {
    const placeholders = row.map((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    return `($1, $2, ${placeholders.join(', ')})`;
  });
  try {
    await tx.query(`INSERT INTO ${into} VALUES ${values.join(', ')}`, params);
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new ConflictError('A prekey with this id is already stored');
    throw error;
  }
}

/**
 * Registers the device of the calling session: checks the keys, numbers the device (max + 1 under the
 * user's row lock, revoked numbers included, so none is reused) and binds the session to it.
 */
export async function registerDevice(
  deps: DeviceDeps,
  principal: Principal,
  input: RegisterDeviceRequest,
  meta: RequestMeta,
): Promise<Device> {
  if (principal.deviceId !== null)
    throw new ConflictError('This session already has a device; log in again for another');
  const identityKey = bytes(input.identityKey);
  await checkSignedPreKey(identityKey, input.signedPreKey);
  await checkPreKeys(input.preKeys);
  const pqPreKeys = input.pqPreKeys ?? [];
  if (pqPreKeys.length > 0 && input.pqLastResortPreKey === undefined) {
    throw new InvalidKeyError('One-time PQ prekeys need a last-resort PQ prekey beside them');
  }
  await checkPqPreKeys(identityKey, [...(input.pqLastResortPreKey ? [input.pqLastResortPreKey] : []), ...pqPreKeys]);
  const deviceId = await deps.db.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [principal.userId]);
    const [counts] = await tx.query<{ active: string; next: number }>(
      `SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS active, COALESCE(max(device_id), 0) + 1 AS next
         FROM devices WHERE user_id = $1`,
      [principal.userId],
    );
    if (Number(counts?.active ?? 0) >= MAX_DEVICES_PER_USER) {
      throw new ConflictError(`At most ${MAX_DEVICES_PER_USER} devices; remove one first`);
    }
    const next = Number(counts?.next ?? 1);
    const now = deps.clock();
    await tx.query(
      `INSERT INTO devices (user_id, device_id, name, registration_id, identity_key, signed_prekey_id, signed_prekey,
                            signed_prekey_signature, signed_prekey_updated_at, created_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)`,
      [
        principal.userId,
        next,
        input.name,
        input.registrationId,
        identityKey,
        input.signedPreKey.keyId,
        bytes(input.signedPreKey.publicKey),
        bytes(input.signedPreKey.signature),
        now,
      ],
    );
    await insertPreKeys(tx, principal.userId, next, input.preKeys);
    if (input.pqLastResortPreKey) await setLastResort(tx, principal.userId, next, input.pqLastResortPreKey, now);
    await insertPqPreKeys(tx, principal.userId, next, pqPreKeys);
    const bound = await tx.query(
      'UPDATE sessions SET device_id = $3 WHERE id = $1 AND user_id = $2 AND device_id IS NULL AND revoked_at IS NULL RETURNING 1',
      [principal.sessionId, principal.userId, next],
    );
    if (bound.length === 0) throw new ConflictError('This session already has a device; log in again for another');
    return next;
  });
  await audited(deps, principal.userId, 'device_registered', meta, {
    sessionId: principal.sessionId,
    deviceId,
    details: { name: input.name },
  });
  return ownDevice(deps, { ...principal, deviceId }, deviceId);
}

async function ownDevice(deps: Pick<DeviceDeps, 'db'>, principal: Principal, deviceId: number): Promise<Device> {
  const [row] = await deps.db.query<DeviceRow>(
    `SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.user_id = $1 AND d.device_id = $2 AND d.revoked_at IS NULL`,
    [principal.userId, deviceId],
  );
  if (!row) throw new NotFoundError('No such device');
  return toDevice(row, principal);
}

export async function listDevices(deps: Pick<DeviceDeps, 'db'>, principal: Principal): Promise<Device[]> {
  const rows = await deps.db.query<DeviceRow>(
    `SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.user_id = $1 AND d.revoked_at IS NULL ORDER BY d.device_id`,
    [principal.userId],
  );
  return rows.map((row) => toDevice(row, principal));
}

/**
 * Revokes one of the caller's devices (another user's is simply not found): its prekeys leave the
 * directory and every session bound to it ends at once, so its tokens stop working on the next request.
 */
export async function revokeDevice(
  deps: DeviceDeps,
  principal: Principal,
  deviceId: number,
  meta: RequestMeta,
): Promise<{ revokedSessions: number }> {
  const revokedSessions = await endSessions(deps, principal.userId, { kind: 'device', deviceId }, 'device_revoked');
  await audited(deps, principal.userId, 'device_revoked', meta, {
    sessionId: principal.sessionId,
    deviceId,
    details: { revokedSessions },
  });
  return { revokedSessions };
}

/** Keys of a device are changed by that device only: another device of the same user gets 403. */
function requireCurrentDevice(principal: Principal, deviceId: number): void {
  if (principal.deviceId !== deviceId) throw new ForbiddenError('Only the device itself may change its keys');
}

export async function uploadPreKeys(
  deps: DeviceDeps,
  principal: Principal,
  deviceId: number,
  keys: readonly OneTimePreKey[],
): Promise<{ preKeysRemaining: number }> {
  requireCurrentDevice(principal, deviceId);
  await checkPreKeys(keys);
  return deps.db.transaction(async (tx) => {
    const [device] = await tx.query(
      'SELECT 1 FROM devices WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL FOR UPDATE',
      [principal.userId, deviceId],
    );
    if (!device) throw new NotFoundError('No such device');
    const [stored] = await tx.query<{ n: string }>(
      'SELECT count(*) AS n FROM one_time_prekeys WHERE user_id = $1 AND device_id = $2',
      [principal.userId, deviceId],
    );
    const count = Number(stored?.n ?? 0);
    if (count + keys.length > MAX_PREKEYS_STORED) {
      throw new ConflictError(`At most ${MAX_PREKEYS_STORED} unclaimed prekeys per device`);
    }
    await insertPreKeys(tx, principal.userId, deviceId, keys);
    return { preKeysRemaining: count + keys.length };
  });
}

export async function rotateSignedPreKey(
  deps: DeviceDeps,
  principal: Principal,
  deviceId: number,
  signedPreKey: SignedPreKey,
): Promise<void> {
  await checkSignedPreKey(await ownIdentityKey(deps, principal, deviceId), signedPreKey);
  await deps.db.query(
    `UPDATE devices SET signed_prekey_id = $3, signed_prekey = $4, signed_prekey_signature = $5,
            signed_prekey_updated_at = $6
      WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL`,
    [
      principal.userId,
      deviceId,
      signedPreKey.keyId,
      bytes(signedPreKey.publicKey),
      bytes(signedPreKey.signature),
      deps.clock(),
    ],
  );
}

async function setLastResort(tx: Db, userId: string, deviceId: number, key: SignedPqPreKey, now: Date): Promise<void> {
  await tx.query(
    `UPDATE devices SET pq_last_resort_prekey_id = $3, pq_last_resort_prekey = $4,
            pq_last_resort_prekey_signature = $5, pq_last_resort_prekey_updated_at = $6
      WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL`,
    [userId, deviceId, key.keyId, bytes(key.publicKey), bytes(key.signature), now],
  );
}

/** The identity key of one of the caller's live devices, changed from that device only. */
async function ownIdentityKey(deps: Pick<DeviceDeps, 'db'>, principal: Principal, deviceId: number): Promise<Buffer> {
  requireCurrentDevice(principal, deviceId);
  const [device] = await deps.db.query<{ identity_key: Buffer }>(
    'SELECT identity_key FROM devices WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL',
    [principal.userId, deviceId],
  );
  if (!device) throw new NotFoundError('No such device');
  return device.identity_key;
}

/**
 * Sets the device's last-resort ML-KEM prekey: the first one turns a classical device into a PQXDH one (the
 * upgrade of devices registered before PQXDH), later ones rotate it. There is no way back to none.
 */
export async function setPqLastResortPreKey(
  deps: DeviceDeps,
  principal: Principal,
  deviceId: number,
  key: SignedPqPreKey,
): Promise<void> {
  const identityKey = await ownIdentityKey(deps, principal, deviceId);
  await checkPqPreKeys(identityKey, [key]);
  await setLastResort(deps.db, principal.userId, deviceId, key, deps.clock());
}

/** More one-time ML-KEM prekeys, under the classical prekeys' limits; only beside a last-resort one. */
export async function uploadPqPreKeys(
  deps: DeviceDeps,
  principal: Principal,
  deviceId: number,
  keys: readonly SignedPqPreKey[],
): Promise<{ pqPreKeysRemaining: number }> {
  const identityKey = await ownIdentityKey(deps, principal, deviceId);
  await checkPqPreKeys(identityKey, keys);
  return deps.db.transaction(async (tx) => {
    const [device] = await tx.query<{ pq_last_resort_prekey_id: string | null }>(
      `SELECT pq_last_resort_prekey_id FROM devices
        WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL FOR UPDATE`,
      [principal.userId, deviceId],
    );
    if (!device) throw new NotFoundError('No such device');
    if (device.pq_last_resort_prekey_id === null) {
      throw new ConflictError('Publish a last-resort PQ prekey before one-time ones');
    }
    const [stored] = await tx.query<{ n: string }>(
      'SELECT count(*) AS n FROM one_time_pq_prekeys WHERE user_id = $1 AND device_id = $2',
      [principal.userId, deviceId],
    );
    const count = Number(stored?.n ?? 0);
    if (count + keys.length > MAX_PREKEYS_STORED) {
      throw new ConflictError(`At most ${MAX_PREKEYS_STORED} unclaimed PQ prekeys per device`);
    }
    await insertPqPreKeys(tx, principal.userId, deviceId, keys);
    return { pqPreKeysRemaining: count + keys.length };
  });
}

/** Another user's live devices: what a sender needs to address each of them. */
export async function publicDevices(deps: Pick<DeviceDeps, 'db'>, userId: string): Promise<PublicDevice[]> {
  await requireUser(deps.db, userId);
  const rows = await deps.db.query<DeviceRow>(
    `SELECT device_id, registration_id, identity_key, pq_last_resort_prekey_id FROM devices
      WHERE user_id = $1 AND revoked_at IS NULL ORDER BY device_id`,
    [userId],
  );
  return rows.map((row) => ({
    deviceId: row.device_id,
    registrationId: Number(row.registration_id),
    identityKey: b64(row.identity_key),
    postQuantum: row.pq_last_resort_prekey_id !== null,
  }));
}

async function requireUser(db: Db, userId: string): Promise<void> {
  const [user] = await db.query('SELECT 1 FROM users WHERE id = $1', [userId]);
  if (!user) throw new NotFoundError('No such user');
}

interface ClaimRow extends Record<string, unknown> {
  key_id: string | null;
  public_key: Buffer | null;
  pq_key_id: string | null;
  pq_public_key: Buffer | null;
  pq_signature: Buffer | null;
}

/**
 * Claims one prekey bundle of a device: its signed prekey, one one-time prekey if any is left, and one
 * one-time PQ prekey if any is left, both deleted in the same statement. `FOR UPDATE SKIP LOCKED` lets
 * concurrent claims take different keys instead of waiting, and no one-time key is ever handed out twice.
 * Without a one-time PQ prekey the bundle carries the device's last-resort one (PQXDH never falls back to
 * classical X3DH for a device that published PQ keys).
 */
async function claim(deps: DeviceDeps, row: DeviceRow): Promise<PreKeyBundle> {
  // Past the target device's budget the bundle goes out without one-time prekeys (classical and PQ alike),
  // with the last-resort PQ key: nobody can drain a device, and colleagues can still start sessions.
  const budget = await check(deps, 'oneTimePreKeysPerDevice', `${row.user_id}:${row.device_id}`);
  const [taken] = await deps.db.query<ClaimRow>(
    `WITH ec AS (
       DELETE FROM one_time_prekeys
        WHERE (user_id, device_id, key_id) IN (
          SELECT user_id, device_id, key_id FROM one_time_prekeys
           WHERE $3::boolean AND user_id = $1::uuid AND device_id = $2::integer
           ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING key_id, public_key),
     pq AS (
       DELETE FROM one_time_pq_prekeys
        WHERE (user_id, device_id, key_id) IN (
          SELECT user_id, device_id, key_id FROM one_time_pq_prekeys
           WHERE $3::boolean AND user_id = $1::uuid AND device_id = $2::integer
           ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING key_id, public_key, signature)
     SELECT ec.key_id, ec.public_key, pq.key_id AS pq_key_id, pq.public_key AS pq_public_key,
            pq.signature AS pq_signature
       FROM (SELECT 1) AS one LEFT JOIN ec ON true LEFT JOIN pq ON true`,
    [row.user_id, row.device_id, budget.allowed],
  );
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    registrationId: Number(row.registration_id),
    identityKey: b64(row.identity_key),
    signedPreKey: {
      keyId: Number(row.signed_prekey_id),
      publicKey: b64(row.signed_prekey),
      signature: b64(row.signed_prekey_signature),
    },
    preKey:
      taken?.key_id != null && taken.public_key
        ? { keyId: Number(taken.key_id), publicKey: b64(taken.public_key) }
        : null,
    pqPreKey: claimedPqPreKey(row, taken),
  };
}

function claimedPqPreKey(row: DeviceRow, taken: ClaimRow | undefined): PreKeyBundle['pqPreKey'] {
  if (taken?.pq_key_id != null && taken.pq_public_key && taken.pq_signature) {
    return {
      keyId: Number(taken.pq_key_id),
      publicKey: b64(taken.pq_public_key),
      signature: b64(taken.pq_signature),
      lastResort: false,
    };
  }
  if (row.pq_last_resort_prekey_id === null || !row.pq_last_resort_prekey || !row.pq_last_resort_prekey_signature) {
    return null;
  }
  return {
    keyId: Number(row.pq_last_resort_prekey_id),
    publicKey: b64(row.pq_last_resort_prekey),
    signature: b64(row.pq_last_resort_prekey_signature),
    lastResort: true,
  };
}

/**
 * Only a registered device starts sessions, so only a registered device may claim (and use up) prekeys; each
 * bundle counts against the claimer's limit.
 */
async function beforeClaim(deps: DeviceDeps, principal: Principal, bundles: number): Promise<void> {
  if (principal.deviceId === null) throw new ForbiddenError('Register this device before fetching prekey bundles');
  await enforce(deps, 'preKeyClaimsPerUser', principal.userId, Math.max(1, bundles));
}

const BUNDLE_COLUMNS = `user_id, device_id, registration_id, identity_key, signed_prekey_id, signed_prekey,
  signed_prekey_signature, pq_last_resort_prekey_id, pq_last_resort_prekey, pq_last_resort_prekey_signature`;

export async function claimBundle(
  deps: DeviceDeps,
  principal: Principal,
  userId: string,
  deviceId: number,
): Promise<PreKeyBundle> {
  await beforeClaim(deps, principal, 1);
  const [row] = await deps.db.query<DeviceRow>(
    `SELECT ${BUNDLE_COLUMNS} FROM devices WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL`,
    [userId, deviceId],
  );
  if (!row) throw new NotFoundError('No such device');
  return claim(deps, row);
}

/** A bundle for every live device of a user (one claim each). */
export async function claimBundles(deps: DeviceDeps, principal: Principal, userId: string): Promise<PreKeyBundle[]> {
  if (principal.deviceId === null) throw new ForbiddenError('Register this device before fetching prekey bundles');
  await requireUser(deps.db, userId);
  const rows = await deps.db.query<DeviceRow>(
    `SELECT ${BUNDLE_COLUMNS} FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY device_id`,
    [userId],
  );
  await beforeClaim(deps, principal, rows.length);
  const bundles: PreKeyBundle[] = [];
  for (const row of rows) bundles.push(await claim(deps, row));
  return bundles;
}
