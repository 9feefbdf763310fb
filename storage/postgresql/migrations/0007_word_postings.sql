-- The related engine's postings (storage/postgresql/related.py): each word of an article's
-- title and excerpt (the lexemes of `search` weighted A or C, as its `:AC` queries match),
-- one row per word and article, in a btree on (word, pk).
--
-- The engine asks for "a term's first `cap` matches among the pks lo..hi": GIN cannot seek
-- that (it returns every match of a word in no order, then each is checked against the pk
-- range, or the range is walked testing each row's tsvector), so a common word cost a walk
-- of the window (15-40 ms a term at 100k). A range scan of this index reads exactly the
-- matches asked for and stops at the cap, as FTS5 does on SQLite.
--
-- Kept by triggers on `articles`, so every writer (ingest, migrate-store's COPY, retention)
-- keeps it without knowing: set-based per statement for inserts and deletes, per row for
-- the rare update that changes a title or excerpt, emptied with a TRUNCATE of `articles`.

CREATE FUNCTION search_words_of(search tsvector) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN tsvector_to_array(ts_filter(search, '{a,c}'));

CREATE TABLE search_words (
    word text COLLATE "C" NOT NULL,
    pk   bigint NOT NULL,
    PRIMARY KEY (word, pk)
);
INSERT INTO search_words (word, pk)
    SELECT w, a.pk FROM articles a, unnest(search_words_of(a.search)) w;
-- The scans are index-only as long as the table's pages are marked all-visible; new rows'
-- pages are not until a vacuum passes, and the newest articles are the ones asked about most.
-- So autovacuum passes after every 20,000 new rows (about 700 articles), not after 20 % of
-- the table (insert vacuums skip the pages already marked: each is short).
ALTER TABLE search_words SET (autovacuum_vacuum_insert_threshold = 20000,
                              autovacuum_vacuum_insert_scale_factor = 0);

CREATE FUNCTION search_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word, pk)
        SELECT w, n.pk FROM added n, unnest(search_words_of(n.search)) w;
    RETURN NULL;
END $$;
CREATE TRIGGER search_words_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION search_words_insert();

CREATE FUNCTION search_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_words s
        USING (SELECT g.pk, unnest(search_words_of(g.search)) AS word FROM gone g) d
        WHERE s.word = d.word AND s.pk = d.pk;
    RETURN NULL;
END $$;
CREATE TRIGGER search_words_delete AFTER DELETE ON articles
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION search_words_delete();

CREATE FUNCTION search_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_words WHERE pk = OLD.pk AND word = ANY(search_words_of(OLD.search));
    INSERT INTO search_words (word, pk) SELECT w, NEW.pk FROM unnest(search_words_of(NEW.search)) w;
    RETURN NULL;
END $$;
CREATE TRIGGER search_words_update AFTER UPDATE OF title, excerpt ON articles FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.excerpt IS DISTINCT FROM NEW.excerpt)
    EXECUTE FUNCTION search_words_update();

CREATE FUNCTION search_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE search_words;
    RETURN NULL;
END $$;
CREATE TRIGGER search_words_truncate AFTER TRUNCATE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION search_words_truncate();

-- Replaced by the postings (migration 0005's per-term plan).
DROP FUNCTION topicbot_term_pks(tsquery, bigint, bigint, integer);

-- Title autocomplete's postings (storage/postgresql/titles.py): each word of a full article's
-- title under its first three letters, in a btree on (prefix, pk, word). The newest titles
-- holding a typed prefix are a backward range scan of one prefix that stops at the pool, as
-- FTS5's three-letter prefix index gives them on SQLite; GIN gave every match of the prefix
-- (27,794 heap rows for `in` at 100k) to sort them.
CREATE TABLE suggest_words (
    prefix text COLLATE "C" NOT NULL,
    pk     bigint NOT NULL,
    word   text COLLATE "C" NOT NULL,
    PRIMARY KEY (prefix, pk, word)
);
INSERT INTO suggest_words (prefix, pk, word)
    SELECT left(w, 3), a.pk, w FROM articles a, unnest(tsvector_to_array(a.title_words)) w
    WHERE a.coverage_only = 0;
ALTER TABLE suggest_words SET (autovacuum_vacuum_insert_threshold = 5000,
                               autovacuum_vacuum_insert_scale_factor = 0);

CREATE FUNCTION suggest_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO suggest_words (prefix, pk, word)
        SELECT left(w, 3), n.pk, w FROM added n, unnest(tsvector_to_array(n.title_words)) w
        WHERE n.coverage_only = 0;
    RETURN NULL;
END $$;
CREATE TRIGGER suggest_words_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION suggest_words_insert();

CREATE FUNCTION suggest_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM suggest_words s
        USING (SELECT g.pk, unnest(tsvector_to_array(g.title_words)) AS word FROM gone g
               WHERE g.coverage_only = 0) d
        WHERE s.prefix = left(d.word, 3) AND s.pk = d.pk AND s.word = d.word;
    RETURN NULL;
END $$;
CREATE TRIGGER suggest_words_delete AFTER DELETE ON articles
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION suggest_words_delete();

CREATE FUNCTION suggest_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM suggest_words s USING unnest(tsvector_to_array(OLD.title_words)) w
        WHERE OLD.coverage_only = 0 AND s.prefix = left(w, 3) AND s.pk = OLD.pk AND s.word = w;
    INSERT INTO suggest_words (prefix, pk, word)
        SELECT left(w, 3), NEW.pk, w FROM unnest(tsvector_to_array(NEW.title_words)) w
        WHERE NEW.coverage_only = 0;
    RETURN NULL;
END $$;
CREATE TRIGGER suggest_words_update AFTER UPDATE OF title, coverage_only ON articles
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.coverage_only <> NEW.coverage_only)
    EXECUTE FUNCTION suggest_words_update();

CREATE FUNCTION suggest_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE suggest_words;
    RETURN NULL;
END $$;
CREATE TRIGGER suggest_words_truncate AFTER TRUNCATE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION suggest_words_truncate();
