-- The fan-out reads each of an article's topics' subscribers in (server, member, mode rank)
-- order, so the plan merges the topics' scans and keeps one alert per member without sorting
-- its 100,000 rows (storage/postgresql/outbox/planning.py; the sort was two thirds of the
-- plan's select). The rank is plans.MODE_RANK, the most immediate mode first, written here
-- exactly as the query writes it: PostgreSQL matches an index expression by its text's tree.
-- Within a topic a member has one subscription per server (the unique key), so the order is
-- the one DISTINCT ON needs. The columns the plan reads after the key come as INCLUDE: they
-- are read, never searched by.
DROP INDEX subscriptions_fanout;
CREATE INDEX subscriptions_fanout ON subscriptions
    (topic_id, guild_id, user_id,
     (CASE delivery WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 ELSE 2 END))
    INCLUDE (min_quality, id, delivery)
    WHERE disabled_reason IS NULL;
