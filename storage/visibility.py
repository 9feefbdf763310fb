"""What members of a guild see: the one visibility rule, as SQL (stated in words in
``bot.domain.visibility``).

Members of a guild see an article when it is not another guild's own (added there with
``/article add``) and it is either coverage-only or published in their guild: by its
moderators, or by the source and not retracted there. Every query that shows members articles
(or counts them) filters with ``members_see``; moderators' lists use ``guild_state``.
"""

from __future__ import annotations


def guild_state(alias: str = "a", guild: str = ":guild") -> str:
    """SQL for the state of article ``alias`` in guild ``guild`` (an SQL expression):
    its moderators' decision ('published' or 'retracted') when they made one, else
    'published' when the source says so, else 'pending'. Never NULL."""
    return (
        "coalesce((SELECT vis_gp.state FROM guild_publication vis_gp "
        f"WHERE vis_gp.guild_id = {guild} AND vis_gp.article_pk = {alias}.pk), "
        f"CASE WHEN {alias}.published = 1 THEN 'published' ELSE 'pending' END)"
    )


def not_another_guilds(alias: str = "a", guild: str = ":guild") -> str:
    """SQL: article ``alias`` came from a file, or from guild ``guild``'s own moderators."""
    # IS NOT DISTINCT FROM: SQLite's ``IS`` under the name both engines know
    return (
        f"({alias}.origin_guild_id IS NULL OR {alias}.origin_guild_id IS NOT DISTINCT FROM {guild})"
    )


def members_see(alias: str = "a", guild: str = ":guild") -> str:
    """SQL, 1 or 0 (never NULL): members of guild ``guild`` see article ``alias``. With
    ``guild`` NULL (or a guild that added and decided nothing): what the source published, and
    coverage. ``migrations/0011`` keeps topic counts by this rule for a NULL guild."""
    return (
        f"({not_another_guilds(alias, guild)} AND ({alias}.coverage_only = 1 "
        f"OR {guild_state(alias, guild)} = 'published'))"
    )
