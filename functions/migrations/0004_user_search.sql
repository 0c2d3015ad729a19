-- User search (issue 3): prefix matches on the display name use this index; whole-email matches use
-- the unique index on email_normalized.
CREATE INDEX users_display_name_prefix_idx ON users (lower(display_name) text_pattern_ops);
