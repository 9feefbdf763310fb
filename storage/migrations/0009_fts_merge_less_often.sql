-- topicbot schema, version 9: the full-text indexes merge their segments less often.
--
-- FTS5 merges segments once 4 of one level exist (its default), so every row is rewritten
-- several times as the index grows; at 100k files that merging was a sixth of what the
-- ingest writer did. Merging at 8 halves that work. A search reads more segments per word,
-- which the command benchmarks show it can afford (README, "Related coverage").
INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8);
INSERT INTO titles_fts (titles_fts, rank) VALUES ('automerge', 8);
