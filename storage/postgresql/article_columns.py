"""Whole articles in one statement on PostgreSQL: the SQLite store's column list
(``storage.articles.ARTICLE``), with its topics and images gathered by PostgreSQL's JSON
functions instead of SQLite's."""

from __future__ import annotations

from storage.articles import ARTICLE as SQLITE_ARTICLE

ARTICLE = SQLITE_ARTICLE.replaced(
    topics=(
        "(SELECT coalesce(json_agg(t.name ORDER BY at.position), '[]')::text "
        "FROM article_topics at JOIN topics t ON t.id = at.topic_id WHERE at.article_pk = a.pk)"
    ),
    images=(
        "(SELECT coalesce(json_agg(json_build_array(i.url, i.width, i.height, i.is_cached) "
        "ORDER BY i.position), '[]')::text FROM images i WHERE i.article_pk = a.pk)"
    ),
)
