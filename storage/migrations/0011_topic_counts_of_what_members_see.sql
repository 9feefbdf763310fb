-- topicbot schema, version 11: a topic's article_count counts what members see.
--
-- It counted every article carrying the topic: pending and retracted ones too, and those
-- another guild's moderators added. It now counts what members of a guild that added and
-- decided nothing see (storage/visibility.py, members_see with a NULL guild: not a guild's
-- own, and coverage-only or published by the source); storage/topics.py adds a guild's own
-- decisions and additions when it reads. Triggers keep the count as articles and their topics
-- change; the condition below is that rule, written for one row.

DROP TRIGGER article_topics_count_insert;
DROP TRIGGER article_topics_count_delete;

CREATE TRIGGER article_topics_count_insert AFTER INSERT ON article_topics BEGIN
    UPDATE topics SET article_count = article_count + 1
    WHERE id = new.topic_id AND EXISTS (SELECT 1 FROM articles a WHERE a.pk = new.article_pk
        AND a.origin_guild_id IS NULL AND (a.coverage_only = 1 OR a.published = 1));
END;

CREATE TRIGGER article_topics_count_delete AFTER DELETE ON article_topics BEGIN
    UPDATE topics SET article_count = article_count - 1
    WHERE id = old.topic_id AND EXISTS (SELECT 1 FROM articles a WHERE a.pk = old.article_pk
        AND a.origin_guild_id IS NULL AND (a.coverage_only = 1 OR a.published = 1));
END;

-- An article the source publishes or unpublishes (or a guild's own one that a file takes
-- over) moves its topics' counts.
CREATE TRIGGER articles_topic_counts_update
AFTER UPDATE OF published, coverage_only, origin_guild_id ON articles
WHEN (old.origin_guild_id IS NULL AND (old.coverage_only = 1 OR old.published = 1))
  IS NOT (new.origin_guild_id IS NULL AND (new.coverage_only = 1 OR new.published = 1))
BEGIN
    UPDATE topics SET article_count = article_count
        + CASE WHEN new.origin_guild_id IS NULL AND (new.coverage_only = 1 OR new.published = 1)
               THEN 1 ELSE -1 END
    WHERE id IN (SELECT topic_id FROM article_topics WHERE article_pk = new.pk);
END;

-- A deleted article's topic rows go by cascade once the article is gone, when their trigger
-- can no longer tell whether it was counted: take its counts back before.
CREATE TRIGGER articles_topic_counts_delete BEFORE DELETE ON articles
WHEN old.origin_guild_id IS NULL AND (old.coverage_only = 1 OR old.published = 1)
BEGIN
    UPDATE topics SET article_count = article_count - 1
    WHERE id IN (SELECT topic_id FROM article_topics WHERE article_pk = old.pk);
END;

UPDATE topics SET article_count = (
    SELECT count(*) FROM article_topics at JOIN articles a ON a.pk = at.article_pk
    WHERE at.topic_id = topics.id
      AND a.origin_guild_id IS NULL AND (a.coverage_only = 1 OR a.published = 1));

-- A guild's own additions, read with its decisions when counting for it (few rows).
CREATE INDEX articles_by_origin ON articles (origin_guild_id) WHERE origin_guild_id IS NOT NULL;
