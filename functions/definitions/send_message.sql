-- send_message(): stores a message in one round trip. The one maintained definition of this function:
-- migrate() applies every file of functions/definitions (CREATE OR REPLACE, so a change here is applied by the next
-- deploy) after the numbered migrations, which hold the tables it reads and writes.
--
-- Checks membership and that the recipients are exactly the live devices of the members but the sending one,
-- answers a retry with the stored seq, checks the attachments (each the sender's, for this conversation, seen
-- uploaded, not yet used) and marks them with the message's seq, takes the next seq under the conversation's
-- row lock, and writes the message and one delivery per recipient device.
--   p_envelopes: a JSON array of {userId, deviceId} plus, for pairwise messages, {type, ciphertext(base64)}
--   p_sender_key: the sender-key ciphertext (base64), or null for a pairwise message
--   p_attachments: a JSON array of attachment ids
-- outcome: 'created' | 'duplicate' | 'not_member' (or the device is revoked)
--        | 'devices_changed' (issues: [{path: 'userId/deviceId', message: 'missing' | 'extra'}])
--        | 'bad_attachments' (issues: the attachment ids)
CREATE OR REPLACE FUNCTION send_message(
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
