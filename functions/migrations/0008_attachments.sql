-- Encrypted attachments (issue 7). The server knows an attachment's conversation, uploader and ciphertext
-- size, never its name, type or key. Objects live at `attachments/<id>` in the attachments bucket.

CREATE TABLE attachments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  -- the ciphertext's exact size, as declared and pinned by the upload policy
  size bigint NOT NULL CHECK (size > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- when the server saw the object with the declared size (HeadObject)
  uploaded_at timestamptz,
  -- the message that carries it; null until then (unreferenced uploads are swept after a day)
  message_seq bigint,
  FOREIGN KEY (conversation_id, message_seq) REFERENCES messages (conversation_id, seq) ON DELETE SET NULL (message_seq)
);
CREATE INDEX attachments_owner_idx ON attachments (owner_id);
CREATE INDEX attachments_unreferenced_idx ON attachments (created_at) WHERE message_seq IS NULL;

-- send_message gains the attachments a message carries: each must be the sender's, for this conversation,
-- seen uploaded, and not yet used; they are marked with the message's seq in the same statement.
DROP FUNCTION send_message(uuid, uuid, integer, uuid, jsonb, text);
CREATE FUNCTION send_message(
  p_conversation uuid, p_sender uuid, p_device integer, p_client_id uuid, p_envelopes jsonb, p_sender_key text,
  p_attachments jsonb
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

  SELECT jsonb_agg(jsonb_build_object('path', g.id, 'message', 'not usable') ORDER BY g.id) INTO v_issues
    FROM jsonb_array_elements_text(p_attachments) AS g(id)
   WHERE NOT EXISTS (
     SELECT 1 FROM attachments a
      WHERE a.id = g.id::uuid AND a.owner_id = p_sender AND a.conversation_id = p_conversation
        AND a.uploaded_at IS NOT NULL AND a.message_seq IS NULL);
  IF v_issues IS NOT NULL THEN
    RETURN QUERY SELECT 'bad_attachments'::text, NULL::bigint, NULL::timestamptz, v_issues, NULL::text;
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
  UPDATE attachments a SET message_seq = v_seq
   WHERE a.id IN (SELECT value::uuid FROM jsonb_array_elements_text(p_attachments));
  UPDATE conversation_members m SET last_read_seq = GREATEST(m.last_read_seq, v_seq)
   WHERE m.conversation_id = p_conversation AND m.user_id = p_sender;

  RETURN QUERY SELECT 'created'::text, v_seq, v_created, NULL::jsonb,
    (SELECT string_agg(m.user_id::text, ',') FROM conversation_members m WHERE m.conversation_id = p_conversation);
END;
$$;
