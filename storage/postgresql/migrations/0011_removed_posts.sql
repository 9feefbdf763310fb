-- A channel post a moderator had the bot delete after retracting its article (SQLite's 0017):
-- the row stays 'sent', with the moment the post was taken down, so it is not offered again.
ALTER TABLE deliveries ADD COLUMN removed_at bigint;
