-- The members Discord last said are no longer in a server, by when it said so (SQLite's
-- 0026): housekeeping deletes their data there after retention.left_member_days, and
-- `topicbot stats` counts them.
CREATE INDEX member_checks_gone ON member_checks (checked_at, guild_id, user_id) WHERE present = 0;
