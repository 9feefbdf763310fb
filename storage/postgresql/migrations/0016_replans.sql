-- A quality bar lowered, whose recent publications that now pass the next planning run plans
-- again for what they missed (SQLite's 0022).
CREATE TABLE replans (
    guild_id     bigint   NOT NULL,
    target_kind  text     NOT NULL CHECK (target_kind IN ('', 'channel', 'dm')),
    target_id    bigint   NOT NULL,
    below        smallint NOT NULL,
    requested_at bigint   NOT NULL,
    PRIMARY KEY (guild_id, target_kind, target_id)
);
