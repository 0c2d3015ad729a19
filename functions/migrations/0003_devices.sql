-- Devices and the key directory (issue 3). A device is numbered per user from 1; numbers are never
-- reused, so a revoked device's address can never point at a new identity key.

CREATE TABLE devices (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_id integer NOT NULL CHECK (device_id >= 1),
  name text NOT NULL,
  -- u32 in the crypto library
  registration_id bigint NOT NULL CHECK (registration_id BETWEEN 0 AND 4294967295),
  -- serialised public identity key (33 bytes: 0x65 + Ed25519)
  identity_key bytea NOT NULL CHECK (length(identity_key) = 33),
  signed_prekey_id bigint NOT NULL CHECK (signed_prekey_id BETWEEN 0 AND 4294967295),
  signed_prekey bytea NOT NULL CHECK (length(signed_prekey) = 33),
  signed_prekey_signature bytea NOT NULL CHECK (length(signed_prekey_signature) = 64),
  signed_prekey_updated_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE one_time_prekeys (
  user_id uuid NOT NULL,
  device_id integer NOT NULL,
  key_id bigint NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
  public_key bytea NOT NULL CHECK (length(public_key) = 33),
  PRIMARY KEY (user_id, device_id, key_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- A session's device is one of its user's devices.
ALTER TABLE sessions
  ADD CONSTRAINT sessions_device_fk FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id);
CREATE INDEX sessions_device_idx ON sessions (user_id, device_id) WHERE device_id IS NOT NULL;
