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

-- send_message gained the attachments a message carries (a seventh parameter): the old signature goes here,
-- the function itself is defined, in full and in one place, in functions/definitions/send_message.sql, which migrate()
-- applies (CREATE OR REPLACE) after the numbered migrations.
DROP FUNCTION IF EXISTS send_message(uuid, uuid, integer, uuid, jsonb, text);
