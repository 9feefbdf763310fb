-- topicbot schema, version 12: outbox rows can be pruned, their counts kept.
--
-- Housekeeping deletes rows in a final state (every state but 'pending') older than
-- retention.deliveries_days, oldest first, a few thousand per transaction. This index finds
-- them in age order; pending rows (what planning writes, 100k at a time) never enter it, so
-- planning pays nothing for it: a row enters it once, when it is sent or given up.
-- On an existing store it is built once from the final rows (about a second per million).
CREATE INDEX deliveries_done_by_age ON deliveries (created_at) WHERE state != 'pending';

-- What a pruned row counted for: per feed (channel rows) or subscription (DM rows) and state,
-- so /feed list and /subscriptions show the same figures after pruning. One row per feed or
-- subscription and state; those of removed feeds and subscriptions go at the next pruning.
CREATE TABLE delivery_counts (
    guild_id    INTEGER NOT NULL,
    target_kind TEXT    NOT NULL,                 -- 'channel' or 'dm'
    target_id   INTEGER NOT NULL,                 -- channel id or user id
    source_id   INTEGER NOT NULL,                 -- feeds.id or subscriptions.id
    state       TEXT    NOT NULL,
    total       INTEGER NOT NULL,
    PRIMARY KEY (guild_id, target_kind, target_id, source_id, state)
) WITHOUT ROWID;

-- Pruned rows by state over the store's life, for `topicbot stats` (six rows at most).
CREATE TABLE delivery_pruned (
    state TEXT PRIMARY KEY,
    total INTEGER NOT NULL
) WITHOUT ROWID;
