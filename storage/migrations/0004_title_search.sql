-- topicbot schema, version 4: a title-only full-text index for autocomplete.
--
-- Title autocomplete searched the title column of articles_fts, whose doclists also hold
-- every excerpt and topic occurrence: a word common in excerpts ("in", "meeting") cost tens of
-- milliseconds at a million articles, and an unindexed prefix query merged the doclists of
-- every matching word. This index holds titles only, with a prefix index for three-letter
-- prefixes (longer prefixes merge the much shorter title doclists).
CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = 'articles', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');

CREATE TRIGGER titles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.pk, new.title);
END;

CREATE TRIGGER titles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.pk, old.title);
END;

CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON articles BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.pk, old.title);
    INSERT INTO titles_fts (rowid, title) VALUES (new.pk, new.title);
END;
