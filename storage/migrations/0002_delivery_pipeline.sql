-- Delivery pipeline: how each publication was planned, and indexes the dispatcher needs.

ALTER TABLE articles ADD COLUMN plan_outcome TEXT;           -- 'planned' or 'skipped_old'
ALTER TABLE guild_publication ADD COLUMN plan_outcome TEXT;  -- likewise, for a moderator's publish

-- When the moderators were told that a disabled feed stopped posting (told once).
ALTER TABLE feeds ADD COLUMN notified_at INTEGER;

CREATE INDEX guild_publication_pending_plan ON guild_publication (planned_at)
    WHERE state = 'published' AND planned_at IS NULL;
CREATE INDEX deliveries_target ON deliveries (target_kind, target_id, state);
CREATE INDEX deliveries_feed ON deliveries (feed_id, state) WHERE feed_id IS NOT NULL;
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, state)
    WHERE subscription_id IS NOT NULL;
CREATE INDEX deliveries_sent_dms ON deliveries (target_id, sent_at)
    WHERE target_kind = 'dm' AND state = 'sent';
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
