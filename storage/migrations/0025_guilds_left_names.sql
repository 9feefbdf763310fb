-- topicbot schema, version 25: the name a server had when it removed the bot, as Discord last
-- told it, so that a member pressing Unsubscribe in an earlier DM is told which server's
-- subscription went (the bot can no longer read the name from Discord). NULL when it is not
-- known (the bot found itself removed at connection, with no name to go by).
ALTER TABLE guilds_left ADD COLUMN name TEXT;
