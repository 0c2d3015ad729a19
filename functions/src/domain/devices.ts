import {
  type Device,
  ErrorCode,
  MAX_DEVICES_PER_USER,
  MAX_PREKEYS_STORED,
  type OneTimePreKey,
  type PreKeyBundle,
  type PublicDevice,
  type RegisterDeviceRequest,
  type SignedPreKey,
} from '@ciphertalk/shared/protocol';
import type { Db } from '#ports/db.ts';
import { type AccountChangeDeps, audited } from './accounts.ts';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from './errors.ts';
import { isPublicPreKey, verifySignedPreKey } from './identity-keys.ts';
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
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (base64: string) => Buffer.from(base64, 'base64');

const DEVICE_COLUMNS = `d.user_id, d.device_id, d.name, d.registration_id, d.identity_key, d.signed_prekey_id,
  d.signed_prekey, d.signed_prekey_signature, d.created_at, d.last_seen_at,
  (SELECT count(*) FROM one_time_prekeys k WHERE k.user_id = d.user_id AND k.device_id = d.device_id) AS prekeys`;

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

async function insertPreKeys(tx: Db, userId: string, deviceId: number, keys: readonly OneTimePreKey[]): Promise<void> {
  if (keys.length === 0) return;
  const params: unknown[] = [userId, deviceId];
  const rows = keys.map((key) => {
    params.push(key.keyId, bytes(key.publicKey));
    return `($1, $2, $${params.length - 1}, $${params.length})`;
  });
  try {
    await tx.query(
      `INSERT INTO one_time_prekeys (user_id, device_id, key_id, public_key) VALUES ${rows.join(', ')}`,
      params,
    );
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
  requireCurrentDevice(principal, deviceId);
  const [device] = await deps.db.query<{ identity_key: Buffer }>(
    'SELECT identity_key FROM devices WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL',
    [principal.userId, deviceId],
  );
  if (!device) throw new NotFoundError('No such device');
  await checkSignedPreKey(device.identity_key, signedPreKey);
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

/** Another user's live devices: what a sender needs to address each of them. */
export async function publicDevices(deps: Pick<DeviceDeps, 'db'>, userId: string): Promise<PublicDevice[]> {
  await requireUser(deps.db, userId);
  const rows = await deps.db.query<DeviceRow>(
    `SELECT device_id, registration_id, identity_key FROM devices
      WHERE user_id = $1 AND revoked_at IS NULL ORDER BY device_id`,
    [userId],
  );
  return rows.map((row) => ({
    deviceId: row.device_id,
    registrationId: Number(row.registration_id),
    identityKey: b64(row.identity_key),
  }));
}

async function requireUser(db: Db, userId: string): Promise<void> {
  const [user] = await db.query('SELECT 1 FROM users WHERE id = $1', [userId]);
  if (!user) throw new NotFoundError('No such user');
}

/**
 * Claims one prekey bundle of a device: its signed prekey and, if any is left, one one-time prekey,
 * deleted in the same statement. `FOR UPDATE SKIP LOCKED` lets concurrent claims take different keys
 * instead of waiting, and no key is ever handed out twice.
 */
async function claim(deps: DeviceDeps, row: DeviceRow): Promise<PreKeyBundle> {
  // Past the target device's budget the bundle goes out without a one-time prekey: nobody can drain it.
  const budget = await check(deps, 'oneTimePreKeysPerDevice', `${row.user_id}:${row.device_id}`);
  const [preKey] = !budget.allowed
    ? []
    : await deps.db.query<{ key_id: string; public_key: Buffer }>(
        `DELETE FROM one_time_prekeys
      WHERE (user_id, device_id, key_id) IN (
        SELECT user_id, device_id, key_id FROM one_time_prekeys
         WHERE user_id = $1 AND device_id = $2
         ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING key_id, public_key`,
        [row.user_id, row.device_id],
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
    preKey: preKey ? { keyId: Number(preKey.key_id), publicKey: b64(preKey.public_key) } : null,
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
  signed_prekey_signature`;

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
