-- topicbot schema, version 22: a quality bar lowered (a server's, a feed's or a member's),
-- whose recent publications that now pass are planned again, for what they missed, by the
-- next planning run (only the worker plans; a server of 50,000 members must not hold up the
-- command's reply). target_kind '' and target_id 0: the whole server (its bar); 'channel'
-- and a channel id: a feed's bar; 'dm' and a user id: a member's. below: the bar that was
-- lowered, as it applied (only articles under it were held back by it); a second lowering
-- before the run keeps the higher.
CREATE TABLE replans (
    guild_id     INTEGER NOT NULL,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('', 'channel', 'dm')),
    target_id    INTEGER NOT NULL,
    below        INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, target_kind, target_id)
);
