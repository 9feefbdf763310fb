-- Term associations learned from stories (SQLite's 0015): each term's strongest associates,
-- rebuilt as a whole by housekeeping; the related engine searches them at reduced weight.
-- `forms` are the associate's token sequences, separated by '|'.
CREATE TABLE term_associations (
    term      text COLLATE "C" NOT NULL,
    associate text COLLATE "C" NOT NULL,
    forms     text NOT NULL,
    strength  double precision NOT NULL,
    PRIMARY KEY (term, associate)
);
