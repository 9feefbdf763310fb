-- Delivery pipeline: how each publication was planned, and indexes the dispatcher needs.

ALTER TABLE articles ADD COLUMN plan_outcome TEXT;           -- 'planned' or 'skipped_old'
ALTER TABLE guild_publication ADD COLUMN plan_outcome TEXT;  -- likewise, for a moderator's publish

-- When the moderators were told that a disabled feed stopped posting (told once).
ALTER TABLE feeds ADD COLUMN notified_at INTEGER;

CREATE INDEX guild_publication_pending_plan ON guild_publication (planned_at)
    WHERE state = 'published' AND planned_at IS NULL;
-- Planning writes a row per subscriber (100k for one article), so the outbox keeps few
-- indexes that a new (pending) row enters: its key and the pending queue. The others are
-- partial on rows that were attempted, so rows enter them one at a time, as they are sent.
CREATE INDEX deliveries_pending ON deliveries (mode, next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_sent_dms ON deliveries (target_id, sent_at, article_pk)
    WHERE target_kind = 'dm' AND state = 'sent';
CREATE INDEX deliveries_history ON deliveries (guild_id, target_kind, target_id, state)
    WHERE state != 'pending';
-- Planning reads each matching subscription from this index alone.
CREATE INDEX subscriptions_fanout ON subscriptions
    (topic_id, guild_id, user_id, delivery, min_quality, id) WHERE disabled_reason IS NULL;
