-- The servers the bot was removed from (SQLite's 0016), until it is invited back: planning
-- writes nothing for them, and what waited for them is cancelled.
CREATE TABLE guilds_left (
    guild_id bigint PRIMARY KEY,
    left_at  bigint NOT NULL
);
