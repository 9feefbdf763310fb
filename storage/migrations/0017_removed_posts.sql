-- topicbot schema, version 17: a channel post a moderator had the bot delete after retracting
-- its article (the "Delete N posts" button of /unpublish). The row stays 'sent' (the post did
-- go out, and keeps counting as such) with the moment it was taken down, so that neither a
-- second press nor a later /unpublish offers it again. A publication planned again forgets
-- such rows, as it forgets the ones a retraction cancelled, so the channel is posted afresh.
ALTER TABLE deliveries ADD COLUMN removed_at INTEGER;
