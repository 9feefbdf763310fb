"""The services: catalog, feeds, subscriptions, guild settings, moderation, related stories,
delivery planning, digests and retention. No Discord imports here."""
