-- An article's identity (canonical_url) no longer tells http from https, a trailing slash, nor
-- :80 from :443; every key is recomputed from the old one, and where several stored articles
-- meet under one new key, one takes it (the full article, then the planned or posted one, then
-- the oldest) and each other keeps its old key with '#duplicate' added, which no later file
-- matches: nothing is deleted. SQLite's 0023 says why and what follows; this is the same.
-- An older process still running (a rolling upgrade) may store articles meanwhile: held off
-- until the commit (its ingest waits about a second a 100,000 articles), since a row it wrote
-- after the keys below were read would keep its old key, or take one the rekeying gives and
-- fail the migration (a duplicate key); SQLite's 0023 holds the file's write lock anyway.
LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE url_rekey ON COMMIT DROP AS
WITH split AS (
    SELECT pk, canonical_url AS old, coverage_only, planned_at,
           substr(canonical_url, strpos(canonical_url, '://') + 3) AS rest
    FROM articles
    WHERE canonical_url LIKE 'http%://%/%'
), host AS (
    SELECT pk, old, coverage_only, planned_at,
           substr(rest, 1, strpos(rest, '/') - 1) AS netloc,
           substr(rest, strpos(rest, '/')) AS tail
    FROM split
), pieces AS (
    SELECT pk, old, coverage_only, planned_at,
           CASE WHEN right(netloc, 3) = ':80' THEN left(netloc, -3)
                WHEN right(netloc, 4) = ':443' THEN left(netloc, -4)
                ELSE netloc END AS netloc,
           CASE WHEN strpos(tail, '?') > 0 THEN substr(tail, 1, strpos(tail, '?') - 1)
                ELSE tail END AS path,
           CASE WHEN strpos(tail, '?') > 0 THEN substr(tail, strpos(tail, '?')) ELSE '' END
               AS query
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
-- only the rows whose key changes or that meet another
SELECT pk, old, new, rank FROM ranked WHERE rank > 1 OR new <> old;
ANALYZE url_rekey;

-- the others first, so the one taking the key never meets a row holding it
UPDATE articles a SET canonical_url = a.canonical_url || '#duplicate'
FROM url_rekey k WHERE k.pk = a.pk AND k.rank > 1;
UPDATE articles a SET canonical_url = k.new
FROM url_rekey k WHERE k.pk = a.pk AND k.rank = 1 AND k.new <> k.old;
-- the others not yet planned are never planned (SQLite's 0023 says why)
UPDATE articles a SET planned_at = extract(epoch FROM now())::bigint, plan_outcome = 'duplicate'
FROM url_rekey k WHERE k.pk = a.pk AND k.rank > 1 AND a.planned_at IS NULL;
-- and their rows waiting for a target the one keeping the key reached, or will, are cancelled
UPDATE deliveries x SET state = 'cancelled', last_error = 'duplicate'
FROM url_rekey k JOIN articles w ON w.canonical_url = k.new
WHERE k.pk = x.article_pk AND k.rank > 1 AND x.state = 'pending'
  AND EXISTS (
      SELECT 1 FROM deliveries d
      WHERE d.article_pk = w.pk AND d.guild_id = x.guild_id AND d.target_kind = x.target_kind
        AND d.target_id = x.target_id AND d.state IN ('pending', 'sent'));
