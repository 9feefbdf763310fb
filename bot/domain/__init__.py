"""The domain: articles, matching, ranking and delivery planning. No Discord imports here."""
