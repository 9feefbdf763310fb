-- The name a server had when it removed the bot (SQLite's 0025), for the reply to an
-- Unsubscribe pressed in an earlier DM; NULL when it is not known.
ALTER TABLE guilds_left ADD COLUMN name text;
