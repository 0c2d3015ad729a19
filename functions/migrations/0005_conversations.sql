-- Conversations (issue 5): direct (exactly one per pair of users) and group, their members, and the
-- per-conversation sequence that system events now and messages later share.

CREATE TABLE conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('direct', 'group')),
  -- groups only
  name text CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 100),
  -- an attachment reference (opaque to the server), groups only
  avatar text CHECK (avatar IS NULL OR char_length(avatar) BETWEEN 1 AND 512),
  -- direct only: the two user ids, sorted, joined by ':'; unique, so a pair has one direct conversation
  direct_key text UNIQUE,
  created_by uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  -- the seq the next message or system event gets: assigned by UPDATE ... RETURNING under the row lock,
  -- in the transaction that inserts the row, so seqs are gap-free and in commit order
  next_seq bigint NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
  CHECK ((kind = 'direct') = (direct_key IS NOT NULL)),
  CHECK (kind = 'group' OR (name IS NULL AND avatar IS NULL))
);

-- Leaving deletes the row: a member is exactly a row here.
CREATE TABLE conversation_members (
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- the highest seq this member has read; starts at the seq of the event that added them
  last_read_seq bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id);

-- The conversation's timeline. `system` rows are written by the server (membership changes, renames);
-- their payload is server-written JSON. Encrypted messages will be rows of another type (next slice).
CREATE TABLE messages (
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq bigint NOT NULL CHECK (seq >= 1),
  type text NOT NULL CHECK (type IN ('system')),
  sender_id uuid REFERENCES users (id) ON DELETE SET NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
);
