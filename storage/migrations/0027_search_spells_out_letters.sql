-- topicbot schema, version 27: the full-text indexes spell out the letters that carry their mark in
-- their shape (ø, æ, œ, ł, đ, ð, þ, ħ, ı, ŀ, ß), as PostgreSQL's unaccent and the topics' fold
-- do, and Cyrillic ё as е (unaccent's one Cyrillic letter).
--
-- FTS5's remove_diacritics drops combining marks only, so "Tromsø", "Łódź" and "Straße" were
-- indexed as typed: `/related query:tromso` or `lodz`, and a title typed so in autocomplete,
-- found nothing on SQLite while PostgreSQL found them (and the words of an English outlet's
-- "Tromso" never met those of a Norwegian outlet's "Tromsø"). Both indexes now read their text
-- from views that spell those letters out, and every string the engine searches for is
-- spelled the same way (storage.titles.fold, storage.sql.fts_phrase). The views are the
-- indexes' content, so FTS5's own checks and 'rebuild' agree with what the triggers index;
-- the triggers read the views too (before a row changes or goes, its indexed text; after it
-- changes or arrives, its new text), so the spelling is written once, here.
DROP TRIGGER articles_fts_insert;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_update;
DROP TABLE articles_fts;
DROP TRIGGER titles_fts_insert;
DROP TRIGGER titles_fts_delete;
DROP TRIGGER titles_fts_update;
DROP VIEW full_article_titles;

-- Each letter and its capital (SQLite's lower() leaves all but ASCII as they are); a text
-- all ASCII (as many as a byte a character) is taken as it is, sparing ingest the replacements.
CREATE VIEW searchable_articles AS SELECT
    pk,
    coverage_only,
    CASE WHEN length(title) = length(CAST(title AS BLOB)) THEN title
        ELSE replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(title, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ħ', 'h'), 'Ħ', 'h'), 'ı', 'i'), 'ŀ', 'l'), 'Ŀ', 'l'), 'ß', 'ss'), 'ẞ', 'ss'), 'ё', 'е'), 'Ё', 'е') END AS title,
    CASE WHEN length(excerpt) = length(CAST(excerpt AS BLOB)) THEN excerpt
        ELSE replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(excerpt, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ħ', 'h'), 'Ħ', 'h'), 'ı', 'i'), 'ŀ', 'l'), 'Ŀ', 'l'), 'ß', 'ss'), 'ẞ', 'ss'), 'ё', 'е'), 'Ё', 'е') END AS excerpt,
    CASE WHEN length(topics_text) = length(CAST(topics_text AS BLOB)) THEN topics_text
        ELSE replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(topics_text, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ħ', 'h'), 'Ħ', 'h'), 'ı', 'i'), 'ŀ', 'l'), 'Ŀ', 'l'), 'ß', 'ss'), 'ẞ', 'ss'), 'ё', 'е'), 'Ё', 'е') END AS topics
FROM articles;

CREATE VIEW full_article_titles AS
SELECT pk, title FROM searchable_articles WHERE coverage_only = 0;

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, excerpt, topics,
    content = 'searchable_articles', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8);
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, topics)
    SELECT pk, title, excerpt, topics FROM searchable_articles WHERE pk = new.pk;
END;

CREATE TRIGGER articles_fts_delete BEFORE DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, topics)
    SELECT 'delete', pk, title, excerpt, topics FROM searchable_articles WHERE pk = old.pk;
END;

CREATE TRIGGER articles_fts_update_old BEFORE UPDATE OF title, excerpt, topics_text ON articles
BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, topics)
    SELECT 'delete', pk, title, excerpt, topics FROM searchable_articles WHERE pk = old.pk;
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, excerpt, topics_text ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, topics)
    SELECT pk, title, excerpt, topics FROM searchable_articles WHERE pk = new.pk;
END;

CREATE TRIGGER titles_fts_insert AFTER INSERT ON articles WHEN new.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (rowid, title)
    SELECT pk, title FROM searchable_articles WHERE pk = new.pk;
END;

CREATE TRIGGER titles_fts_delete BEFORE DELETE ON articles WHEN old.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title)
    SELECT 'delete', pk, title FROM searchable_articles WHERE pk = old.pk;
END;

-- The old title leaves before the row changes and the new one enters after (a coverage entry
-- whose own file arrives enters here).
CREATE TRIGGER titles_fts_update_old BEFORE UPDATE OF title, coverage_only ON articles
WHEN old.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title)
    SELECT 'delete', pk, title FROM searchable_articles WHERE pk = old.pk;
END;

CREATE TRIGGER titles_fts_update AFTER UPDATE OF title, coverage_only ON articles
WHEN new.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (rowid, title)
    SELECT pk, title FROM searchable_articles WHERE pk = new.pk;
END;
