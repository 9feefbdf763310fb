-- topicbot schema, version 20: topics found as typed without accents. `folded` is the topic's
-- name casefolded with its accents dropped (storage.topics.topic_fold: 'Québec' is 'quebec'),
-- computed in Python, so that both engines hold the very same fold. Rows stored before this
-- version are folded when the store next opens (Store.open), in batches.
ALTER TABLE topics ADD COLUMN folded TEXT;
CREATE INDEX topics_by_folded ON topics (folded);
