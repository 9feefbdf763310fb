-- topicbot schema, version 26: the members Discord last said are no longer in a server
-- (present 0), by when it said so, for housekeeping to find those gone longer than
-- retention.left_member_days (their subscriptions there, that answer and, when nothing else
-- names them, their DM channel id go) and for `topicbot stats` to count them and say when the
-- next goes. A few rows: only members who left.
CREATE INDEX member_checks_gone ON member_checks (checked_at, guild_id, user_id) WHERE present = 0;
