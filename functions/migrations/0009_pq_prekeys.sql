-- Post-quantum prekeys of PQXDH (issue 20): each device may publish a signed last-resort ML-KEM-1024 prekey
-- and signed one-time ones. Keys are the crypto library's serialised form (1,569 bytes: the KEM type byte 0x08
-- and the 1,568-byte encapsulation key); signatures are the identity key's Ed25519 over those bytes.
-- Devices registered before this migration have none and keep getting classical X3DH sessions.

ALTER TABLE devices
  ADD COLUMN pq_last_resort_prekey_id bigint CHECK (pq_last_resort_prekey_id BETWEEN 0 AND 4294967295),
  ADD COLUMN pq_last_resort_prekey bytea CHECK (length(pq_last_resort_prekey) = 1569),
  ADD COLUMN pq_last_resort_prekey_signature bytea CHECK (length(pq_last_resort_prekey_signature) = 64),
  ADD COLUMN pq_last_resort_prekey_updated_at timestamptz,
  -- all or nothing: a device either has a whole last-resort PQ prekey or none
  ADD CONSTRAINT devices_pq_last_resort_whole CHECK (
    (pq_last_resort_prekey_id IS NULL) = (pq_last_resort_prekey IS NULL)
    AND (pq_last_resort_prekey IS NULL) = (pq_last_resort_prekey_signature IS NULL)
  );

CREATE TABLE one_time_pq_prekeys (
  user_id uuid NOT NULL,
  device_id integer NOT NULL,
  key_id bigint NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
  public_key bytea NOT NULL CHECK (length(public_key) = 1569),
  signature bytea NOT NULL CHECK (length(signature) = 64),
  PRIMARY KEY (user_id, device_id, key_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
