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

-- Stores a message in one round trip: checks membership and that the recipients are exactly the live
-- devices of the members but the sending one, answers a retry with the stored seq, takes the next seq
-- under the conversation's row lock, and writes the message and one delivery per recipient device.
--   p_envelopes: a JSON array of {userId, deviceId} plus, for pairwise messages, {type, ciphertext(base64)}
--   p_sender_key: the sender-key ciphertext (base64), or null for a pairwise message
-- outcome: 'created' | 'duplicate' | 'not_member' (or the device is revoked) | 'devices_changed' (issues: [{path, message}])
CREATE FUNCTION send_message(
  p_conversation uuid, p_sender uuid, p_device integer, p_client_id uuid, p_envelopes jsonb, p_sender_key text
) RETURNS TABLE (outcome text, seq bigint, created_at timestamptz, issues jsonb, member_ids text)
LANGUAGE plpgsql AS $$
DECLARE
  v_seq bigint;
  v_created timestamptz;
  v_issues jsonb;
BEGIN
  PERFORM 1 FROM conversations c
    JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = p_sender
    JOIN devices d ON d.user_id = p_sender AND d.device_id = p_device AND d.revoked_at IS NULL
   WHERE c.id = p_conversation FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_member'::text, NULL::bigint, NULL::timestamptz, NULL::jsonb, NULL::text;
    RETURN;
  END IF;

  SELECT m.seq, m.created_at INTO v_seq, v_created FROM messages m
   WHERE m.conversation_id = p_conversation AND m.sender_id = p_sender AND m.client_message_id = p_client_id;
  IF FOUND THEN
    RETURN QUERY SELECT 'duplicate'::text, v_seq, v_created, NULL::jsonb, NULL::text;
    RETURN;
  END IF;

  WITH expected AS (
    SELECT d.user_id::text || '/' || d.device_id AS path FROM conversation_members m
      JOIN devices d ON d.user_id = m.user_id AND d.revoked_at IS NULL
     WHERE m.conversation_id = p_conversation AND NOT (d.user_id = p_sender AND d.device_id = p_device)
  ), given AS (
    SELECT lower(e.value->>'userId') || '/' || (e.value->>'deviceId') AS path, e.ord
      FROM jsonb_array_elements(p_envelopes) WITH ORDINALITY AS e(value, ord)
  ), diff AS (
    SELECT path, 'missing' AS message, 0 AS ord FROM expected WHERE path NOT IN (SELECT path FROM given)
    UNION ALL
    SELECT path, 'extra', ord FROM given WHERE path NOT IN (SELECT path FROM expected)
  )
  -- missing devices first (by id), then extra ones in the order the request gave them
  SELECT jsonb_agg(jsonb_build_object('path', path, 'message', message) ORDER BY message DESC, ord, path)
    INTO v_issues FROM diff;
  IF v_issues IS NOT NULL THEN
    RETURN QUERY SELECT 'devices_changed'::text, NULL::bigint, NULL::timestamptz, v_issues, NULL::text;
    RETURN;
  END IF;

  UPDATE conversations c SET next_seq = c.next_seq + 1, last_activity_at = now()
   WHERE c.id = p_conversation RETURNING c.next_seq - 1, c.last_activity_at INTO v_seq, v_created;
  INSERT INTO messages (conversation_id, seq, type, sender_id, sender_device_id, client_message_id, sender_key_ciphertext)
  VALUES (p_conversation, v_seq, 'message', p_sender, p_device, p_client_id, decode(p_sender_key, 'base64'));
  INSERT INTO deliveries (user_id, device_id, conversation_id, seq, envelope_type, ciphertext)
  SELECT (e->>'userId')::uuid, (e->>'deviceId')::integer, p_conversation, v_seq, e->>'type',
         decode(e->>'ciphertext', 'base64')
    FROM jsonb_array_elements(p_envelopes) e;
  UPDATE conversation_members m SET last_read_seq = GREATEST(m.last_read_seq, v_seq)
   WHERE m.conversation_id = p_conversation AND m.user_id = p_sender;

  RETURN QUERY SELECT 'created'::text, v_seq, v_created, NULL::jsonb,
    (SELECT string_agg(m.user_id::text, ',') FROM conversation_members m WHERE m.conversation_id = p_conversation);
END;
$$;
