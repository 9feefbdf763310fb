-- topicbot schema, version 7: story title keys filed by week first.
--
-- Keyed by the (random) key first, each new article's keys landed on random pages of a table
-- holding four rows per article: past 100k files, a batch rewrote most of the table's pages
-- and its commit spent more on that than on everything else. Filed by week of publication
-- first, news arriving in time order adds to the last few pages; a lookup probes the one or
-- two weeks its window covers. (week = floor(published_at / 604800), as Python's // gives.)
CREATE TABLE story_title_keys_by_week (
    week         INTEGER NOT NULL,
    key          INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    article_pk   INTEGER NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    PRIMARY KEY (week, key, published_at, article_pk)
) WITHOUT ROWID;
INSERT INTO story_title_keys_by_week (week, key, published_at, article_pk)
SELECT (published_at - ((published_at % 604800) + 604800) % 604800) / 604800,
       key, published_at, article_pk
FROM story_title_keys;
DROP TABLE story_title_keys;
ALTER TABLE story_title_keys_by_week RENAME TO story_title_keys;
CREATE INDEX story_title_keys_article ON story_title_keys (article_pk);
