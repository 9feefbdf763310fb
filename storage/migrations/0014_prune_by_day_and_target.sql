-- topicbot schema, version 14: pruning takes the outbox a day and a target at a time.
--
-- Taken in age order (deliveries_done_by_age), a batch of 2,000 rows was one article's rows
-- to 2,000 members: next to each other in the table, but each on a page of its own in the two
-- indexes keyed by target (deliveries_history, deliveries_sent_dms), so a transaction wrote
-- some 4,000 pages and held the writer for a third of a second. Taken by UTC day, then by
-- target, a batch is some 100 targets' rows of that day: a target's rows of a day lie together
-- in every index, and a batch writes about a tenth of the pages.
-- On an existing store it is built once from the final rows (about a second per million).
DROP INDEX deliveries_done_by_age;
CREATE INDEX deliveries_done_by_day ON deliveries (created_at / 86400, guild_id, target_kind,
    target_id) WHERE state != 'pending';
