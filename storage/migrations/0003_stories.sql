-- topicbot schema, version 3: story grouping and term statistics for related coverage.

-- Compact keys of each headline (triples of its four lowest-hash significant words), so that
-- near-identical headlines from different outlets meet through an index at ingest.
CREATE TABLE story_title_keys (
    key          INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    article_pk   INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    PRIMARY KEY (key, published_at, article_pk)
) WITHOUT ROWID;
CREATE INDEX story_title_keys_article ON story_title_keys (article_pk);

-- Articles stored before stories existed: each is its own story, joined to the story that
-- lists it. Later ingests merge further by the full rules.
UPDATE articles SET story_id = pk WHERE story_id IS NULL;
UPDATE articles
SET story_id = (SELECT min(l.parent_pk) FROM related_links l WHERE l.child_pk = articles.pk)
WHERE pk IN (SELECT child_pk FROM related_links);
