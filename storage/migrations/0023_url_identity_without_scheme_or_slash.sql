-- topicbot schema, version 23: an article's identity (canonical_url, bot/articles/urls.py) no
-- longer tells http from https, nor a path from the same path with a trailing slash, nor :80
-- from :443: a producer that moves to https or adds a slash and sends a story again must
-- update the article already stored, not store and post it a second time. Every key is
-- recomputed here from the old one (already canonical by the old rule: lower-case scheme and
-- host, no fragment, no tracking, a path that starts with '/'): 'https://', the host without
-- :80 or :443, the path without its trailing slashes (the root stays '/'), the query as it
-- was. PostgreSQL's 0017 does the same.
--
-- Where several stored articles meet under one new key (the story stored over http and over
-- https, or with and without the slash), nothing is deleted and each row keeps its id, posts,
-- topics and links. One of them takes the new key, so every later file, `/article add`,
-- related entry and link lookup finds it: the full article before coverage-only ones, then
-- the one planned or posted already, then the oldest. Each other one keeps its old key with
-- '#duplicate' added: a key canonical_url never computes (it drops fragments), so no later
-- file matches it and ingest never posts it again, and `/related` lists it once with the
-- other (it compares keys read through canonical_url). An operator finds them with
-- `SELECT id, web_url FROM articles WHERE canonical_url LIKE '%#duplicate'`.
--
-- Only the rows whose key changes or that meet another are kept, by pk (each is looked up once).
CREATE TEMP TABLE url_rekey (pk INTEGER PRIMARY KEY, old TEXT NOT NULL, new TEXT NOT NULL,
                             rank INTEGER NOT NULL);
INSERT INTO url_rekey (pk, old, new, rank)
WITH split AS (
    SELECT pk, canonical_url AS old, coverage_only, planned_at,
           substr(canonical_url, instr(canonical_url, '://') + 3) AS rest
    FROM articles
    WHERE canonical_url LIKE 'http%://%/%'
), host AS (
    SELECT pk, old, coverage_only, planned_at,
           substr(rest, 1, instr(rest, '/') - 1) AS netloc,
           substr(rest, instr(rest, '/')) AS tail
    FROM split
), pieces AS (
    SELECT pk, old, coverage_only, planned_at,
           CASE WHEN substr(netloc, -3) = ':80' THEN substr(netloc, 1, length(netloc) - 3)
                WHEN substr(netloc, -4) = ':443' THEN substr(netloc, 1, length(netloc) - 4)
                ELSE netloc END AS netloc,
           CASE WHEN instr(tail, '?') > 0 THEN substr(tail, 1, instr(tail, '?') - 1)
                ELSE tail END AS path,
           CASE WHEN instr(tail, '?') > 0 THEN substr(tail, instr(tail, '?')) ELSE '' END AS query
    FROM host
), rekeyed AS (
    SELECT pk, old, coverage_only, planned_at,
           'https://' || netloc
           || CASE WHEN path LIKE '%/' THEN coalesce(nullif(rtrim(path, '/'), ''), '/')
                   ELSE path END
           || query AS new
    FROM pieces
)
, ranked AS (
    SELECT pk, old, new,
           row_number() OVER (
               PARTITION BY new
               ORDER BY coverage_only,
                        planned_at IS NULL
                            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_pk = r.pk),
                        pk
           ) AS rank
    FROM rekeyed r
)
SELECT pk, old, new, rank FROM ranked WHERE rank > 1 OR new <> old;

-- the others first, so the one taking the key never meets a row holding it
UPDATE articles SET canonical_url = canonical_url || '#duplicate'
WHERE pk IN (SELECT pk FROM url_rekey WHERE rank > 1);
UPDATE articles SET canonical_url = (SELECT new FROM url_rekey k WHERE k.pk = articles.pk)
WHERE pk IN (SELECT pk FROM url_rekey WHERE rank = 1 AND new <> old);
-- The others not yet planned (a copy the old rule stored just before the upgrade) are never
-- planned: the one keeping the key goes out, and theirs would be the same story posted and
-- alerted again. plan_outcome 'duplicate' says why they went nowhere.
UPDATE articles SET planned_at = CAST(strftime('%s', 'now') AS INTEGER), plan_outcome = 'duplicate'
WHERE pk IN (SELECT pk FROM url_rekey WHERE rank > 1) AND planned_at IS NULL;
-- Their rows still waiting for a channel or member that the one keeping the key reached, or
-- will, are cancelled (last_error 'duplicate'): the same story there twice. The rest stay.
UPDATE deliveries SET state = 'cancelled', last_error = 'duplicate'
WHERE state = 'pending' AND article_pk IN (SELECT pk FROM url_rekey WHERE rank > 1)
  AND EXISTS (
      SELECT 1 FROM url_rekey k JOIN articles w ON w.canonical_url = k.new
      JOIN deliveries d ON d.article_pk = w.pk AND d.guild_id = deliveries.guild_id
          AND d.target_kind = deliveries.target_kind AND d.target_id = deliveries.target_id
      WHERE k.pk = deliveries.article_pk AND d.state IN ('pending', 'sent'));
DROP TABLE url_rekey;
