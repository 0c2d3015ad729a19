-- Encrypted messages (issue 5): a message is a row of the conversation's timeline (sharing the seq with
-- system events) and one envelope per recipient device, each the E2E library's ciphertext for that device.
-- The server never sees plaintext; `payload` stays for server-written system events only.

ALTER TABLE messages DROP CONSTRAINT messages_type_check;
ALTER TABLE messages ADD CONSTRAINT messages_type_check CHECK (type IN ('system', 'message'));
ALTER TABLE messages ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_payload_check CHECK ((type = 'system') = (payload IS NOT NULL));
-- the sending device, and the client's id for the message: a retried send stores nothing twice
ALTER TABLE messages ADD COLUMN sender_device_id integer;
ALTER TABLE messages ADD COLUMN client_message_id uuid;
ALTER TABLE messages ADD CONSTRAINT messages_sender_check
  CHECK (type = 'system' OR (sender_id IS NOT NULL AND sender_device_id IS NOT NULL AND client_message_id IS NOT NULL));
CREATE UNIQUE INDEX messages_client_id_idx ON messages (conversation_id, sender_id, client_message_id)
  WHERE client_message_id IS NOT NULL;

CREATE TABLE message_envelopes (
  conversation_id uuid NOT NULL,
  seq bigint NOT NULL,
  user_id uuid NOT NULL,
  device_id integer NOT NULL,
  -- the library's message type: a PreKeySignalMessage (first message of a session) or a SignalMessage
  type text NOT NULL CHECK (type IN ('prekey', 'signal')),
  ciphertext bytea NOT NULL CHECK (length(ciphertext) BETWEEN 1 AND 65536),
  PRIMARY KEY (conversation_id, seq, user_id, device_id),
  FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE,
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
-- a device's inbox, in order
CREATE INDEX message_envelopes_device_idx ON message_envelopes (user_id, device_id, conversation_id, seq);
