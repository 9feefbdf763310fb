-- topicbot schema, version 18: subscriptions found by member. Deleting the data of a server
-- that removed the bot (retention.left_server_days) deletes a member's DM channel id only when
-- they follow nothing in another server; without this index, asking that of each member read
-- every subscription (about 1.4 ms a member at 200,000 subscriptions, a skip-scan at best).
CREATE INDEX subscriptions_member ON subscriptions (user_id);
