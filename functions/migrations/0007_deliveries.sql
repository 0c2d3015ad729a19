-- Delivery (issue 5): each recipient device's inbox, sender-key messages, and the one-round-trip send.
--
-- A delivery is one timeline entry (message or system event) owed to one device. It carries the device's
-- envelope for pairwise messages; sender-key messages keep their one ciphertext on the message row.
-- Acknowledging a delivery marks it and drops its ciphertext: a ratchet message cannot be decrypted twice,
-- so the server keeps nothing a device has already received. The retention sweep removes the rest.

ALTER TABLE messages ADD COLUMN sender_key_ciphertext bytea
  CHECK (sender_key_ciphertext IS NULL OR length(sender_key_ciphertext) BETWEEN 1 AND 65536);
-- retention sweeps and history by time
CREATE INDEX messages_created_idx ON messages (created_at);

CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL,
  device_id integer NOT NULL,
  conversation_id uuid NOT NULL,
  seq bigint NOT NULL,
  -- pairwise messages until acknowledged: the device's envelope
  envelope_type text CHECK (envelope_type IN ('prekey', 'signal')),
  ciphertext bytea CHECK (ciphertext IS NULL OR length(ciphertext) BETWEEN 1 AND 65536),
  acked_at timestamptz,
  CHECK ((envelope_type IS NULL) = (ciphertext IS NULL)),
  CHECK (acked_at IS NULL OR ciphertext IS NULL),
  UNIQUE (conversation_id, seq, user_id, device_id),
  FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE,
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
-- a device's inbox, oldest first: what GET /sync reads
CREATE INDEX deliveries_inbox_idx ON deliveries (user_id, device_id, id) WHERE acked_at IS NULL;

INSERT INTO deliveries (user_id, device_id, conversation_id, seq, envelope_type, ciphertext)
SELECT user_id, device_id, conversation_id, seq, type, ciphertext FROM message_envelopes ORDER BY conversation_id, seq;
DROP TABLE message_envelopes;

-- The conversation keeps its creator's id when that account is deleted.
ALTER TABLE conversations ALTER COLUMN created_by DROP NOT NULL;
ALTER TABLE conversations DROP CONSTRAINT conversations_created_by_fkey;
ALTER TABLE conversations ADD CONSTRAINT conversations_created_by_fkey
  FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL;

-- The one-round-trip send, send_message(), has one maintained definition: functions/definitions/send_message.sql,
-- applied after the numbered migrations.

