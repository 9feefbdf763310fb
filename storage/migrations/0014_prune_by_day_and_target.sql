-- topicbot schema, version 14: pruning takes the outbox a day and a target at a time.
--
-- Taken in age order (deliveries_done_by_age), a batch of 2,000 rows was one article's rows
-- to 2,000 members: next to each other in the table, but each on a page of its own in the two
-- indexes keyed by target (deliveries_history, deliveries_sent_dms), so a transaction wrote
-- some 4,000 pages and held the writer for a third of a second. Taken by UTC day, then by
-- target, a batch is some 100 targets' rows of that day: a target's rows of a day lie together
-- in every index, and a batch writes about a tenth of the pages.
-- The day is that of the later of creation and sending: a row may go once both are past the
-- cutoff, so a row sent late (a weekly digest's) sits under the day it was sent, not in front
-- of the prunable ones, where every batch would step over it.
-- On an existing store it is built once from the final rows (about a second per million).
DROP INDEX deliveries_done_by_age;
CREATE INDEX deliveries_done_by_day ON deliveries (max(created_at, coalesce(sent_at, 0)) / 86400,
    guild_id, target_kind, target_id) WHERE state != 'pending';

-- The kept counts of a feed or subscription go with it, in its own transaction, instead of
-- by one pass over every kept count at each pruning run (a pass over 100,000 subscriptions'
-- counts held the writer for a tenth of a second). Those already orphaned go now.
DELETE FROM delivery_counts WHERE CASE target_kind
    WHEN 'channel' THEN NOT EXISTS (SELECT 1 FROM feeds f WHERE f.id = source_id)
    ELSE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = source_id) END;
CREATE TRIGGER feeds_delivery_counts_delete AFTER DELETE ON feeds BEGIN
    DELETE FROM delivery_counts WHERE guild_id = old.guild_id AND target_kind = 'channel'
        AND target_id = old.channel_id AND source_id = old.id;
END;
CREATE TRIGGER subscriptions_delivery_counts_delete AFTER DELETE ON subscriptions BEGIN
    DELETE FROM delivery_counts WHERE guild_id = old.guild_id AND target_kind = 'dm'
        AND target_id = old.user_id AND source_id = old.id;
END;
