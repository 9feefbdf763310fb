-- topicbot: outside a transaction
-- topicbot schema, version 13: space that pruning frees goes back to the file system.
--
-- With incremental auto-vacuum, housekeeping gives free pages back a few MiB at a time
-- (PRAGMA incremental_vacuum); without it they are only reused. A file takes the mode only
-- by being rebuilt, so this runs VACUUM once (it cannot run inside a transaction; run again
-- after a crash, it does the same). One-time cost on an existing store: the whole file is
-- copied (about 10-20 s per GB on a small machine, the store locked meanwhile) and needs free
-- disk of about twice its size for the time (the copy, then the write-ahead log). A new store
-- is empty here, so it costs nothing. The copy is made in a temporary file, not in memory.
PRAGMA temp_store = FILE;
PRAGMA auto_vacuum = INCREMENTAL;
VACUUM;
-- back to the connection's setting (storage/database.py: open_connection)
PRAGMA temp_store = MEMORY;
