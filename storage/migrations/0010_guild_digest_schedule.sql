-- topicbot schema, version 10: a server's own digest time and weekly day (/settings), beside
-- the time zone it could already keep. NULL means the deployment's default (digests.*).
ALTER TABLE guild_settings ADD COLUMN digest_time TEXT
    CHECK (digest_time GLOB '[0-2][0-9]:[0-5][0-9]');
ALTER TABLE guild_settings ADD COLUMN digest_day TEXT
    CHECK (digest_day IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
                          'sunday'));
