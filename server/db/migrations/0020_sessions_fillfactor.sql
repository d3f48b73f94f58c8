-- Sessions are touched (last_seen_at) at most every five minutes while in use, and a crowd arriving at a drop
-- touches thousands at once. Room on each page lets a touch be a heap-only update (last_seen_at is in no
-- index), instead of a new row version on another page and two index entries. Pages written from now on.
ALTER TABLE "sessions" SET (fillfactor = 70);
