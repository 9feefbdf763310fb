-- topicbot schema, version 5: a leaner outbox, so one article can fan out to 100k members fast.
--
-- The pending queue was one index on (mode, next_attempt_at): a new article's rows landed in
-- the middle of it (between other modes' and later times' entries), each a full descent. One
-- partial index per mode keyed by time takes a plan's rows in order at its end instead.
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_pending_instant ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'instant';
CREATE INDEX deliveries_pending_daily ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'daily';
CREATE INDEX deliveries_pending_weekly ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'weekly';

-- The fan-out index now holds every column planning reads (disabled_reason is NULL in all of
-- its entries, but SQLite needs it present to read no table row).
DROP INDEX subscriptions_fanout;
CREATE INDEX subscriptions_fanout ON subscriptions
    (topic_id, guild_id, user_id, delivery, min_quality, id, disabled_reason)
    WHERE disabled_reason IS NULL;

-- What a row says beyond its target becomes a note: a DM row no longer repeats its
-- subscription's topic ('topic: AI'), which it reaches through subscription_id, nor a channel
-- row 'feed'; a note is left only where something happened, such as a move to the digest.
ALTER TABLE deliveries RENAME COLUMN reason TO note;
UPDATE deliveries
SET note = CASE WHEN instr(note, ' · ') > 0 THEN substr(note, instr(note, ' · ') + 3) ELSE '' END
WHERE note LIKE 'topic: %' OR note = 'feed' OR note LIKE 'feed · %';
