-- The related engine and title autocomplete on PostgreSQL (storage/postgresql/related.py).
--
-- 1. Words are split as SQLite's FTS5 `unicode61` tokenizer splits them: at every character
--    that is not a letter or a digit. PostgreSQL's parser keeps `1.75`, `3.5bn`, `U.S.`,
--    `example.com` or `-11` (a date's part) as single tokens, where FTS5 (and the engine's
--    terms, bot/domain/terms.py) see `1 75`, `3 5bn`, `u s`, `example com`, `11`; a figure
--    written `1.75%` would then never match. So the text is cut to its letters and digits
--    first (topicbot_words), and the parser only sees words between spaces.
-- 2. BM25's corpus statistics (term_documents, search_totals) are dropped: the engine weighs a
--    term by its count among the articles around the story (capped, read from the GIN index
--    at query time), exactly as on SQLite, so both engines rank alike and ingest keeps
--    nothing per term (see docs/architecture.md, "Related coverage on PostgreSQL").

DROP TABLE term_documents, search_totals;

CREATE FUNCTION topicbot_words(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace($1, '[^[:alnum:]]+', ' ', 'g');

ALTER TABLE articles DROP COLUMN search, DROP COLUMN title_words;
ALTER TABLE articles
    -- /related and searches: title (A) above topics (B) above excerpt (C); the related engine
    -- matches title and excerpt only (weights A and C), as FTS5's {title excerpt} filter.
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('topicbot_text'::regconfig, topicbot_words(title)), 'A')
        || setweight(to_tsvector('topicbot_text'::regconfig, topicbot_words(topics_text)), 'B')
        || setweight(to_tsvector('topicbot_text'::regconfig, topicbot_words(excerpt)), 'C')
    ) STORED,
    -- Autocomplete: the title alone, queried with the last word as a prefix (word:*).
    ADD COLUMN title_words tsvector GENERATED ALWAYS AS (
        to_tsvector('topicbot_text'::regconfig, topicbot_words(title))
    ) STORED;
CREATE INDEX articles_search ON articles USING gin (search);
CREATE INDEX articles_title_words ON articles USING gin (title_words) WHERE coverage_only = 0;

-- A term's matches among the articles with pks lo..hi, at most cap (storage/postgresql/
-- related.py). Planned for each call with the term itself, written into the statement as a
-- quoted literal (%L): the planner's statistics of the search column then choose the GIN
-- index for a rare term and a walk of the pk range that stops at `cap` for a common one. A
-- plan made for any term (one subquery per term in one statement, or the term passed as a
-- parameter) walks the range for every term: ~50 ms a term at 100k articles.
CREATE FUNCTION topicbot_term_pks(q tsquery, lo bigint, hi bigint, cap integer)
    RETURNS bigint[] LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    found bigint[];
BEGIN
    EXECUTE format('SELECT ARRAY(SELECT pk FROM articles WHERE search @@ %L::tsquery'
                   ' AND pk BETWEEN $1 AND $2 LIMIT $3)', q)
        INTO found USING lo, hi, cap;
    RETURN found;
END $$;
