-- topicbot schema, version 15: term associations learned from stories.
--
-- Outlets covering one event paraphrase each other ("face cameras" / "facial recognition").
-- Housekeeping learns, from pairs of articles that one story holds (curated `related` links
-- and grouping at ingest), which term on one side goes with which on the other more often
-- than chance, and keeps each term's strongest associates here (a few per term, rebuilt as
-- a whole at each run). The related engine searches a story's terms' associates too, at
-- reduced weight. `forms` are the associate's token sequences, separated by '|'.
CREATE TABLE term_associations (
    term      TEXT NOT NULL,
    associate TEXT NOT NULL,
    forms     TEXT NOT NULL,
    strength  REAL NOT NULL,   -- share of the term's pairs holding the associate opposite
    PRIMARY KEY (term, associate)
) WITHOUT ROWID;
