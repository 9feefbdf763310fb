-- topicbot schema, version 19: whether a member is still in a server, as Discord last said
-- (GET /guilds/{guild}/members/{user}: the bot has no members intent, so it hears of no one
-- leaving), or as a command they used there showed. Asked before a DM or digest of that
-- server's subscriptions goes out, at most once per delivery.member_check_hours, and kept
-- here so that every process and a restart share the answer. A member found gone has their
-- subscriptions there paused ("you left the server") and what waited for them cancelled.
CREATE TABLE member_checks (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    present    INTEGER NOT NULL CHECK (present IN (0, 1)),
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
