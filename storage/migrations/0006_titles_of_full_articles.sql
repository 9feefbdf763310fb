-- topicbot schema, version 6: the title index holds full articles only.
--
-- Title autocomplete only ever shows full articles (coverage-only ones cannot be published or
-- picked), yet two titles in three were coverage entries: they cost ingest a third of its
-- full-text work and took places in autocomplete's pool of newest matches. The index's
-- content is now a view of the full articles, so FTS5's own checks and 'rebuild' agree with
-- what it holds.
DROP TRIGGER titles_fts_insert;
DROP TRIGGER titles_fts_delete;
DROP TRIGGER titles_fts_update;
DROP TABLE titles_fts;

CREATE VIEW full_article_titles AS SELECT pk, title FROM articles WHERE coverage_only = 0;

CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = 'full_article_titles', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');

CREATE TRIGGER titles_fts_insert AFTER INSERT ON articles WHEN new.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.pk, new.title);
END;

CREATE TRIGGER titles_fts_delete AFTER DELETE ON articles WHEN old.coverage_only = 0 BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.pk, old.title);
END;

-- One trigger, so the old title always leaves before the new one enters (a coverage entry
-- whose own file arrives enters here).
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title, coverage_only ON articles BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title)
    SELECT 'delete', old.pk, old.title WHERE old.coverage_only = 0;
    INSERT INTO titles_fts (rowid, title)
    SELECT new.pk, new.title WHERE new.coverage_only = 0;
END;
