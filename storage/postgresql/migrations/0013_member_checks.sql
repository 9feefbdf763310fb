-- Whether a member is still in a server, as Discord last said or a command they used there
-- showed (SQLite's 0019): asked before a DM or digest of that server goes out, at most once
-- per delivery.member_check_hours, shared by every process.
CREATE TABLE member_checks (
    guild_id   bigint   NOT NULL,
    user_id    bigint   NOT NULL,
    present    smallint NOT NULL CHECK (present IN (0, 1)),
    checked_at bigint   NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
