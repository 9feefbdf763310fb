-- Taking a retracted article's post down is claimed first and counted done only once Discord
-- confirmed it (SQLite's 0021, which says why): a press claims the posts it will delete, and
-- `removed_at` is set per post once Discord answered that it is gone. A claim older than the
-- lease, or left by a run of the bot that ended, is free again.
ALTER TABLE deliveries ADD COLUMN removal_claimed_at bigint;
ALTER TABLE deliveries ADD COLUMN removal_claimed_by text;
CREATE INDEX deliveries_removal_claims ON deliveries (removal_claimed_by)
    WHERE removal_claimed_by IS NOT NULL;
