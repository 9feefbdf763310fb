-- topicbot schema, version 1. Times are Unix seconds (UTC). Discord ids are integers.

CREATE TABLE articles (
    pk                  INTEGER PRIMARY KEY,
    id                  TEXT    NOT NULL UNIQUE,          -- short id members can type
    canonical_url       TEXT    NOT NULL UNIQUE,
    web_url             TEXT    NOT NULL,
    original_url        TEXT    NOT NULL DEFAULT '',
    title               TEXT    NOT NULL,
    excerpt             TEXT    NOT NULL DEFAULT '',
    published_at        INTEGER NOT NULL,                 -- publishedDateTime
    category            TEXT    NOT NULL DEFAULT '',
    type                TEXT    NOT NULL DEFAULT 'article',
    quality             INTEGER NOT NULL DEFAULT 0 CHECK (quality BETWEEN 0 AND 100),
    heat                INTEGER NOT NULL DEFAULT -1,
    published           INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)), -- the source's flag
    source_published_at INTEGER,                          -- when the source flag was first seen true
    planned_at          INTEGER,                          -- when delivery planning took the source publication
    provider_name       TEXT    NOT NULL DEFAULT '',
    provider_domain     TEXT    NOT NULL DEFAULT '',
    topics_text         TEXT    NOT NULL DEFAULT '',      -- display names, for full-text search
    body                TEXT    NOT NULL DEFAULT '',
    extra_json          TEXT    NOT NULL DEFAULT '{}',    -- unknown front-matter keys
    secured             TEXT,                             -- opaque; never displayed or logged
    coverage_only       INTEGER NOT NULL DEFAULT 0 CHECK (coverage_only IN (0, 1)), -- known only through another file's `related`
    content_hash        TEXT    NOT NULL,
    story_id            INTEGER,
    origin_guild_id     INTEGER,                          -- added by a moderator: that guild only
    ingested_at         INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX articles_published_at ON articles (published_at);
CREATE INDEX articles_pending_plan ON articles (published, planned_at) WHERE coverage_only = 0;
CREATE INDEX articles_story ON articles (story_id) WHERE story_id IS NOT NULL;

CREATE TABLE topics (
    id            INTEGER PRIMARY KEY,
    key           TEXT    NOT NULL UNIQUE,                -- case- and spacing-folded
    name          TEXT    NOT NULL,                       -- display form first seen
    article_count INTEGER NOT NULL DEFAULT 0              -- kept by triggers on article_topics
);
CREATE INDEX topics_by_use ON topics (article_count DESC, key);

CREATE TABLE article_topics (
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    article_pk INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (topic_id, article_pk)
) WITHOUT ROWID;
CREATE INDEX article_topics_article ON article_topics (article_pk);

CREATE TRIGGER article_topics_count_insert AFTER INSERT ON article_topics BEGIN
    UPDATE topics SET article_count = article_count + 1 WHERE id = new.topic_id;
END;

CREATE TRIGGER article_topics_count_delete AFTER DELETE ON article_topics BEGIN
    UPDATE topics SET article_count = article_count - 1 WHERE id = old.topic_id;
END;

CREATE TABLE images (
    article_pk INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    url        TEXT    NOT NULL,
    width      INTEGER,
    height     INTEGER,
    is_cached  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_pk, position)
) WITHOUT ROWID;

CREATE TABLE related_links (
    parent_pk INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    child_pk  INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    PRIMARY KEY (parent_pk, child_pk)
) WITHOUT ROWID;
CREATE INDEX related_links_child ON related_links (child_pk);

-- A moderator's publish or retract, for their guild only; overrides the source flag there.
CREATE TABLE guild_publication (
    guild_id   INTEGER NOT NULL,
    article_pk INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    state      TEXT    NOT NULL CHECK (state IN ('published', 'retracted')),
    decided_by INTEGER NOT NULL,
    decided_at INTEGER NOT NULL,
    planned_at INTEGER,
    PRIMARY KEY (guild_id, article_pk)
) WITHOUT ROWID;
CREATE INDEX guild_publication_unplanned ON guild_publication (state, planned_at);

CREATE TABLE guild_settings (
    guild_id          INTEGER PRIMARY KEY,
    moderator_role_id INTEGER,
    min_quality       INTEGER CHECK (min_quality BETWEEN 0 AND 100),
    timezone          TEXT,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    topic_id        INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    min_quality     INTEGER NOT NULL DEFAULT 0 CHECK (min_quality BETWEEN 0 AND 100),
    delivery        TEXT    NOT NULL DEFAULT 'instant'
                            CHECK (delivery IN ('instant', 'daily', 'weekly')),
    disabled_reason TEXT,
    failure_count   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (guild_id, user_id, topic_id)
);
CREATE INDEX subscriptions_topic ON subscriptions (topic_id, guild_id);

CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    topic_id        INTEGER REFERENCES topics (id) ON DELETE CASCADE,   -- NULL: every topic
    min_quality     INTEGER CHECK (min_quality BETWEEN 0 AND 100),      -- NULL: the guild's bar
    mention_role_id INTEGER,
    created_by      INTEGER NOT NULL,
    disabled_reason TEXT,
    failure_count   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX feeds_route ON feeds (guild_id, channel_id, ifnull(topic_id, 0));
CREATE INDEX feeds_topic ON feeds (topic_id);

-- The outbox: one row per article and target, written in the same transaction as the plan.
-- Planning writes a row per subscriber, 100k for one article, so the table is stored WITHOUT
-- ROWID (one B-tree, not a table plus a unique index) and keyed by the article first (a
-- plan's rows are appended together, not scattered through the tree). feed_id and subscription_id are
-- informational (rows outlive the feeds and subscriptions that caused them). No CHECK
-- constraints here: only storage/deliveries.py writes these values, and CHECKs with IN lists
-- cost a third of the time of planning 100k rows.
CREATE TABLE deliveries (
    guild_id        INTEGER NOT NULL,
    target_kind     TEXT    NOT NULL,                     -- 'channel' or 'dm'
    target_id       INTEGER NOT NULL,                     -- channel id or user id
    article_pk      INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    feed_id         INTEGER,
    subscription_id INTEGER,
    mode            TEXT    NOT NULL DEFAULT 'instant',   -- 'instant', 'daily' or 'weekly'
    -- 'pending', 'sent', 'failed', 'dead', 'skipped' or 'cancelled'
    state           TEXT    NOT NULL DEFAULT 'pending',
    reason          TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    message_id      INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    PRIMARY KEY (article_pk, guild_id, target_kind, target_id)
) WITHOUT ROWID;

CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    article_pk  INTEGER REFERENCES articles (pk) ON DELETE SET NULL,
    detail_json TEXT    NOT NULL DEFAULT '{}',
    at          INTEGER NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, excerpt, topics,
    content = 'articles', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, topics)
    VALUES (new.pk, new.title, new.excerpt, new.topics_text);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, topics)
    VALUES ('delete', old.pk, old.title, old.excerpt, old.topics_text);
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, excerpt, topics_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, topics)
    VALUES ('delete', old.pk, old.title, old.excerpt, old.topics_text);
    INSERT INTO articles_fts (rowid, title, excerpt, topics)
    VALUES (new.pk, new.title, new.excerpt, new.topics_text);
END;
