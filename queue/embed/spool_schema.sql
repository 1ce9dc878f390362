-- newsmill-queue spool: the one description of its on-disk format.
--
-- One SQLite file (WAL). PRAGMA user_version holds the schema version this
-- file was written for (NM_SPOOL_SCHEMA_VERSION in queue/nm_spool.c).
-- Changing the format: never edit what a released version created; append a
-- migration step to nm_spool.c (version N -> N+1, run inside one
-- transaction), update this file to describe the result, and bump
-- NM_SPOOL_SCHEMA_VERSION. A spool with a newer version than the program
-- knows is refused, never guessed at.
--
-- REVISIONS: every accepted put (a new id, or a resubmit replacing the body
-- of one waiting) gets the next value of one spool-wide counter, stored in
-- articles.rev and kept in `revision` in the same transaction. So for any id,
-- a newer body always has a higher revision than every older one, even
-- after the older row was settled and deleted and the id submitted afresh
-- (a per-row counter would restart at 1 there). Deliveries carry it
-- (Delivery.revision); the results database never replaces a higher
-- revision of an id with a lower one, and done, retry and dead-lettering
-- act on a row only while its revision is the one delivered, so a worker
-- reporting on an old body never removes, penalises or buries a newer one.
-- A requeued dead letter keeps the revision it died with (dead.rev): if a
-- newer body of its id was stored since, the old one stays older. (A
-- JetStream store would give its stream sequence this role.)
--
-- Where the counter starts: a new spool starts it at its creation time in
-- microseconds (Unix). This is the one place the spool trusts the clock,
-- and only to survive an operator deleting the spool while keeping the
-- results database: the new spool's revisions must start above the old
-- one's. The old spool handed out one revision per accepted put since its
-- own creation, far fewer than one per microsecond (a million articles a
-- second, sustained), so its counter stays below the clock; a new spool
-- starts above it unless the clock was stepped back by about the old
-- spool's whole lifetime. For the same reason the queue raises the counter
-- to the clock each time it opens the spool: a power cut with
-- `--durability normal` can lose the last commits, counter included, while
-- the results database (synced) kept the revisions they handed out; from
-- the clock, the next revisions are above those. The counter is never
-- lowered: a clock stepped back changes nothing.
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
    attempts           INTEGER NOT NULL DEFAULT 0,    -- deliveries of this body that ended in
                                                      -- failure or expiry (0 again when a
                                                      -- resubmit replaces the body)
    rev                INTEGER NOT NULL DEFAULT 0,    -- the body's revision (REVISIONS), new at
                                                      -- every accepted put; 0 = none known
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
    letter       BLOB    NOT NULL,                    -- packed newsmill.DeadLetter (history included)
    rev          INTEGER NOT NULL DEFAULT 0           -- its revision, kept by a requeue
);
CREATE INDEX IF NOT EXISTS dead_newest ON dead (dead_unix_ms DESC);

-- The last revision handed out (REVISIONS): one row, created with the
-- spool's creation time in microseconds (nm_spool.c).
CREATE TABLE IF NOT EXISTS revision (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
);
