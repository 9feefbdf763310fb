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
