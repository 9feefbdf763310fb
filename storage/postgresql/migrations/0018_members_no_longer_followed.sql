-- SQLite's 0024: nothing kept names a member who follows nothing any more.
-- Removing a member's last subscription in a server now takes what Discord said of them there
-- (member_checks), and their last one anywhere their DM channel id (dm_channels); before, both
-- were kept for ever. This forgets those a store kept so far.
DELETE FROM member_checks WHERE NOT EXISTS (SELECT 1 FROM subscriptions s
    WHERE s.guild_id = member_checks.guild_id AND s.user_id = member_checks.user_id);
DELETE FROM dm_channels WHERE NOT EXISTS (SELECT 1 FROM subscriptions s
    WHERE s.user_id = dm_channels.user_id);
