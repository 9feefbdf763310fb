-- Ingest writes less (docs/performance.md, "Ingest on PostgreSQL").
--
-- 1. The GIN index of `articles.search` is written at every ingest and read by nothing the
--    bot does: since the postings (0007) the related engine reads a term's matches from
--    `search_words` and the `search` column itself by pk alone (a phrase's candidates, for
--    word order), and the postings are filled from the column, not from the index. Only
--    `ArticlesApi.search` could use it, and nothing above storage/ calls that.
DROP INDEX articles_search;

-- 2. An article's topics, images and related links are written by the store only, in the
--    statement or transaction that writes the article (storage/postgresql/articles.py), so
--    their foreign keys to it checked what cannot be otherwise, one lookup per row: about
--    4 s of the 25 s of statements of a 20,000-file ingest. Without them, retention deletes
--    an article's rows itself (storage/postgresql/retention.py), as it does its story keys
--    since 0006; SQLite keeps its foreign keys, whose checks cost little. The topics' side of
--    `article_topics` keeps its key: topics are deleted by other paths.
ALTER TABLE article_topics DROP CONSTRAINT article_topics_article_pk_fkey;
ALTER TABLE images DROP CONSTRAINT images_article_pk_fkey;
ALTER TABLE related_links DROP CONSTRAINT related_links_parent_pk_fkey,
    DROP CONSTRAINT related_links_child_pk_fkey;

-- 3. The postings of a batch are inserted in their keys' order. Read from the new articles
--    they come article after article, each article's words from `a` to `z`, so every row
--    went to another place in the btree, searched from its root; in key order, consecutive
--    rows land on the same or the next leaf page (200,000 rows into a 2,000,000-row table:
--    1.98 s of CPU before, 1.37 s after, the sort included). The rows are the same. Sorting a
--    batch's (up to a few hundred thousand rows) gets the memory to stay off disk.
CREATE OR REPLACE FUNCTION search_words_insert() RETURNS trigger LANGUAGE plpgsql
SET work_mem = '64MB' AS $$
BEGIN
    INSERT INTO search_words (word, pk)
        SELECT w, n.pk FROM added n, unnest(search_words_of(n.search)) w
        ORDER BY w COLLATE "C", n.pk;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION suggest_words_insert() RETURNS trigger LANGUAGE plpgsql
SET work_mem = '64MB' AS $$
BEGIN
    INSERT INTO suggest_words (prefix, pk, word)
        SELECT left(w, 3), n.pk, w FROM added n, unnest(tsvector_to_array(n.title_words)) w
        WHERE n.coverage_only = 0
        ORDER BY left(w, 3) COLLATE "C", n.pk, w COLLATE "C";
    RETURN NULL;
END $$;
