-- Pruning takes the outbox a day and a target at a time, as SQLite's migration 0014 (see its
-- header for why: a batch by UTC day, then target, writes a tenth of the index pages a batch
-- in age order does).
--
-- The day is an expression index, not a stored generated column: a column would be one more
-- on `deliveries` that SQLite has not, so rows would no longer copy between the engines
-- unchanged, and adding it rewrites the whole outbox where the index only reads it. A query
-- uses the index by writing the same expression, as storage/retention.py does on SQLite
-- (greatest() is SQLite's two-argument max(); both are integer division of non-negative
-- Unix seconds, so the days agree). `article_pk` ends the key: on SQLite the outbox is a
-- table WITHOUT ROWID, whose indexes end with the rest of its primary key, so pruning there
-- reads and deletes in (day, guild, target kind, target, article) order; here that order must
-- be spelled out for the index to give it without a sort.
DROP INDEX deliveries_done_by_age;
CREATE INDEX deliveries_done_by_day ON deliveries
    ((greatest(created_at, coalesce(sent_at, 0)) / 86400), guild_id, target_kind, target_id,
     article_pk)
    WHERE state <> 'pending';

-- The kept counts of a feed or subscription go with it, in its own transaction (SQLite's
-- 0014). Triggers per statement with the removed rows as a table, as 0001's: removing a guild
-- or a topic (whose feeds and subscriptions cascade) deletes its counts in one statement, not
-- one per row. Those already orphaned go now.
DELETE FROM delivery_counts c WHERE CASE c.target_kind
    WHEN 'channel' THEN NOT EXISTS (SELECT 1 FROM feeds f WHERE f.id = c.source_id)
    ELSE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = c.source_id) END;

CREATE FUNCTION feeds_delivery_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts c USING gone g
    WHERE c.guild_id = g.guild_id AND c.target_kind = 'channel'
        AND c.target_id = g.channel_id AND c.source_id = g.id;
    RETURN NULL;
END $$;
CREATE TRIGGER feeds_delivery_counts_delete AFTER DELETE ON feeds
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION feeds_delivery_counts_delete();

CREATE FUNCTION subscriptions_delivery_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts c USING gone g
    WHERE c.guild_id = g.guild_id AND c.target_kind = 'dm'
        AND c.target_id = g.user_id AND c.source_id = g.id;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_delivery_counts_delete AFTER DELETE ON subscriptions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION subscriptions_delivery_counts_delete();
