-- topicbot schema, version 8: the outbox without a foreign key.
--
-- Planning writes a row per member (100k for one article), each of which SQLite checked
-- against articles - for rows the plan had just selected from articles by that very key. The
-- cascade it gave (an article's rows go with it) is kept by a trigger.
CREATE TABLE deliveries_new (
    guild_id        INTEGER NOT NULL,
    target_kind     TEXT    NOT NULL,                     -- 'channel' or 'dm'
    target_id       INTEGER NOT NULL,                     -- channel id or user id
    article_pk      INTEGER NOT NULL,                     -- articles.pk (see the trigger below)
    feed_id         INTEGER,
    subscription_id INTEGER,
    mode            TEXT    NOT NULL DEFAULT 'instant',   -- 'instant', 'daily' or 'weekly'
    -- 'pending', 'sent', 'failed', 'dead', 'skipped' or 'cancelled'
    state           TEXT    NOT NULL DEFAULT 'pending',
    note            TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    message_id      INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    PRIMARY KEY (article_pk, guild_id, target_kind, target_id)
) WITHOUT ROWID;
INSERT INTO deliveries_new
SELECT guild_id, target_kind, target_id, article_pk, feed_id, subscription_id, mode, state,
       note, attempts, next_attempt_at, last_error, message_id, created_at, sent_at
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE INDEX deliveries_pending_instant ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'instant';
CREATE INDEX deliveries_pending_daily ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'daily';
CREATE INDEX deliveries_pending_weekly ON deliveries (next_attempt_at)
    WHERE state = 'pending' AND mode = 'weekly';
CREATE INDEX deliveries_sent_dms ON deliveries (target_id, sent_at, article_pk)
    WHERE target_kind = 'dm' AND state = 'sent';
CREATE INDEX deliveries_history ON deliveries (guild_id, target_kind, target_id, state)
    WHERE state != 'pending';

CREATE TRIGGER articles_deliveries_delete AFTER DELETE ON articles BEGIN
    DELETE FROM deliveries WHERE article_pk = old.pk;
END;
