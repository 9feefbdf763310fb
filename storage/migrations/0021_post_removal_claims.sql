-- topicbot schema, version 21: taking a retracted article's post down is claimed first, and
-- counted done only once Discord confirmed it. Before, `removed_at` was set as the press
-- began, so a process that died (or a DELETE that hung until shutdown) between marking and
-- deleting left posts counted as removed while still up, never offered again.
-- Now a press claims the posts it will delete (`removal_claimed_at`, `removal_claimed_by`:
-- that press of that run of the bot) and sets `removed_at` per post once Discord answered that
-- it is gone (deleted now, 10008 unknown message, 10003 its channel deleted). A claim older
-- than the lease (`bot.domain.moderation.REMOVAL_LEASE`), or left by a run of the bot that
-- ended, is free: the post is offered again and the next press retries it.
-- Rows marked by the old code keep their `removed_at`: it cannot tell which were confirmed,
-- and the old code marked again as up every post Discord did not confirm unless it died.
ALTER TABLE deliveries ADD COLUMN removal_claimed_at INTEGER;
ALTER TABLE deliveries ADD COLUMN removal_claimed_by TEXT;
-- the claims a run of the bot leaves at shutdown, or finds at start, without a full scan
CREATE INDEX deliveries_removal_claims ON deliveries (removal_claimed_by)
    WHERE removal_claimed_by IS NOT NULL;
