-- topicbot schema, version 16: the servers the bot was removed from (kicked, banned, or the
-- server deleted), from Discord's GUILD_DELETE until it is invited back. Planning writes
-- nothing for such a server and what waited for it is cancelled: Discord would refuse every
-- post (50001) and the members' DMs sent in its name, and the refusals would pause its feeds
-- and subscriptions as if a permission were missing. Its feeds, subscriptions and settings
-- are kept for its return.
CREATE TABLE guilds_left (
    guild_id INTEGER PRIMARY KEY,
    left_at  INTEGER NOT NULL
);
