-- newsmill-queue spool: the one description of its on-disk format.
--
-- One SQLite file (WAL). PRAGMA user_version holds the schema version this
-- file was written for (NM_SPOOL_SCHEMA_VERSION in common/nm_spool.c).
-- Changing the format: never edit what a released version created; append a
-- migration step to nm_spool.c (version N -> N+1, run inside one
-- transaction), update this file to describe the result, and bump
-- NM_SPOOL_SCHEMA_VERSION. A spool with a newer version than the program
-- knows is refused, never guessed at.
--
-- Leases are NOT stored: they live in the queue's memory only, so after a
-- restart every article in `articles` is waiting again (outstanding leases
-- are treated as expired). Delivery does not write to the spool; only
-- submit (insert), done (delete), fail/expiry (attempts, history) and
-- dead-lettering do.

-- Articles waiting or under lease, oldest first within a priority.
CREATE TABLE IF NOT EXISTS articles (
    seq                INTEGER PRIMARY KEY,           -- arrival order
    id                 TEXT    NOT NULL UNIQUE,       -- article id (producer's or derived)
    priority           INTEGER NOT NULL DEFAULT 0,    -- higher is delivered first
    enqueued_unix_ms   INTEGER NOT NULL,              -- when it was first accepted
    not_before_unix_ms INTEGER NOT NULL DEFAULT 0,    -- retry back-off: not delivered before this
    attempts           INTEGER NOT NULL DEFAULT 0,    -- deliveries that ended in failure or expiry
    rev                INTEGER NOT NULL DEFAULT 0,    -- +1 when a resubmit replaces the body
    article            BLOB    NOT NULL,              -- packed newsmill.Article (id always set)
    failures           BLOB                           -- packed newsmill.DeadLetter holding the
                                                      -- failure history (failures field), or NULL
);
-- Delivery order; covering, so choosing what is ready never reads the rows.
CREATE INDEX IF NOT EXISTS articles_ready
    ON articles (priority DESC, seq, not_before_unix_ms);

-- Articles that will not be retried, with every reason they failed.
CREATE TABLE IF NOT EXISTS dead (
    id           TEXT    PRIMARY KEY,                 -- article id
    dead_unix_ms INTEGER NOT NULL,                    -- when it was dead-lettered
    article      BLOB    NOT NULL,                    -- packed newsmill.Article, as submitted
    letter       BLOB    NOT NULL                     -- packed newsmill.DeadLetter (history included)
);
CREATE INDEX IF NOT EXISTS dead_newest ON dead (dead_unix_ms DESC);
