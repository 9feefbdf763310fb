-- Subscriptions found by member (SQLite's 0018): deleting the data of a server that removed
-- the bot keeps a member's DM channel id while they follow something in another server.
CREATE INDEX subscriptions_member ON subscriptions (user_id);
