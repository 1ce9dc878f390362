-- newsmill results database: the schema, in one place.
--
-- One SQLite file per host, written by every worker of that host (WAL mode,
-- one transaction per batch of articles) and read by `newsmill query` and
-- anyone with the sqlite3 shell (but see TABLES AND VIEWS). store/nm_store.c embeds this file (as
-- nm_embed_results_schema_sql) and runs it on a new, empty database.
--
-- VERSION: PRAGMA user_version (the last statement of this file) is the
-- schema version. nm_store refuses a database whose version is newer than its
-- own and migrates an older one forward, inside one transaction, with the
-- steps in results_migrations.sql.
--
-- CHANGING THE SCHEMA (the rule):
--   1. Edit this file so that it creates the new shape from scratch and bump
--      user_version below and NM_STORE_SCHEMA_VERSION in nm_store.h.
--   2. Append a section "-- @version N" to results_migrations.sql that takes a
--      version N-1 database to exactly this shape (same tables, columns,
--      indexes, triggers) and backfills what it can. Never edit a section that
--      has been released: databases in the field have already run it.
--   3. tests/unit/test_store.c checks that a migrated database and a new one
--      have the same tables, columns and indexes, and that rows survive.
--
-- CONVENTIONS
--   * articles.article (article_rows.article) is the internal integer key;
--     every child table refers to it (small rows, cheap joins). articles.id
--     is the producer's id.
--   * Persisting an article id again deletes the old row and every child row,
--     then inserts afresh, in the same transaction: never duplicates (unless
--     the stored revision is newer: see REVISIONS).
--   * Times are Unix milliseconds (INTEGER), columns end in _unix_ms;
--     NULL = unknown.  datetime(x / 1000, 'unixepoch') shows them.
--   * Offsets (*_byte) are BYTE offsets into articles.body, end exclusive.
--     SQL substr() counts characters on TEXT, so cut with the BLOB form:
--       CAST(substr(CAST(body AS BLOB), start_byte + 1,
--                   end_byte - start_byte) AS TEXT)
--   * 64-bit fingerprints are stored as signed INTEGER (same bits).
--     simhash is also split into four 16-bit bands (sh0 = low bits .. sh3):
--     two simhashes within Hamming distance 3 agree on at least one band, so
--     the band indexes find near-duplicate candidates with plain SQL and the
--     function hamming(a, b) (registered by nm_store, hence `newsmill query`)
--     confirms them. minhash_similarity(a, b) estimates Jaccard similarity
--     from two minhash blobs (64 x uint32, little-endian).
--
-- REVISIONS: articles.revision is the queue's revision of the body the row
-- was extracted from (Delivery.revision; the spool hands out a revision that
-- grows with every accepted submit, so a newer body of an id always has a
-- higher one). Persisting an id whose stored revision is higher drops the
-- write (the worker counts it in worker_stale_dropped_total): a worker that
-- held an old body past its lease cannot overwrite the newer one. An equal
-- revision is a redelivery and replaces. Revision 0 means "none known"
-- (rows from before schema version 4, tools and tests): a put at revision 0
-- replaces whatever is stored, and any revision replaces a row at 0.
--
-- WHY SENTENCES (NOT PARAGRAPH ROWS): sentences are the unit that mentions,
-- summaries and snippets refer to; each one carries its paragraph number, so
-- paragraphs are "sentences grouped by paragraph" and need no table of their
-- own (sections refer to paragraph numbers).
--
-- WHY SENTENCES, MENTIONS AND KEYPHRASES ARE VIEWS: an article has ~20 sentences and ~30
-- mentions, the most numerous rows by far, and the worker's write cost is
-- per row (a B-tree insert each, and a delete each when an article is
-- replaced). They are only ever read per article, so each article stores its
-- sentences as one packed value (article_rows.sentences_packed, read as
-- JSON through articles.sentences_json) and each (article, entity) its
-- mentions (article_entities.mentions_packed); the views `sentences` and
-- `mentions` unpack them with json_each() into the rows and columns a table
-- would have. Query them like tables; they cannot be written.
--
-- WHY THE SUMMARY IS NOT A TABLE: the extractive summary is a choice of
-- sentences: sentences.summary_rank (1, 2, ... in article order) marks them
-- and the view's column articles.summary joins their text for display.
--
-- PACKED COLUMNS (version 5; a BBC article went from 7.7 KB to under 5 KB):
-- the body is stored once, as one zstd frame (article_rows.body_zstd, level
-- 1: 2.2 KB of news text -> 1.1 KB), and sentences, mentions and keyphrases
-- as varints (nm_store_pack.c has the format). Views give back what version
-- 4 stored, byte for byte, computed when read:
--   articles.body            nm_unzstd(body_zstd)
--   articles.sentences_json  nm_sentences_json(sentences_packed)
--   articles.summary         nm_summary(body, sentences_packed)
--   articles.keyphrases_json nm_keyphrases_json(keyphrases_packed)
--   mentions (view)          nm_mentions_json(article_entities.mentions_packed)
--   keyphrases (view)        each score, the exact double, with
--                            nm_keyphrase_score()
-- so every query of docs/queries.md reads as before. New files use 8 KB
-- pages (article rows pack better; files from before keep theirs).
--
-- TABLES AND VIEWS: tables hold only stored data; every computed column is
-- in a view. article_rows is the table of articles, articles the view that
-- reads it (every stored column but the packed ones, plus the computed
-- ones); article_entities, entities, sections, outline, acronyms are
-- tables; sentences, mentions, keyphrases are views. Write the tables; read
-- either. The functions are nm_store's (registered on its connections,
-- hence `newsmill query`, `newsmill export`, the API, and
-- nm_store_register_functions() for any other) and the SQLite extension
-- newsmill_results.so (store/ext/; the sqlite3 shell: `-cmd '.load PATH'`,
-- docs/queries.md). Without it the shell cannot prepare a statement that
-- names a view ("no such function: nm_unzstd"), nor snippet(), but it runs
-- PRAGMA integrity_check, VACUUM, .backup, reads and updates every table,
-- and runs MATCH and bm25(). (Version 5 first had these as generated
-- columns of the tables: the shell could then neither check, vacuum nor
-- update a file, and SQLite computed every one of them on each insert.)

-- One row per article: the stored columns (read it through the view
-- articles, below, which adds the computed ones).
CREATE TABLE article_rows (
    article INTEGER PRIMARY KEY,          -- internal key
    id TEXT NOT NULL UNIQUE,              -- producer's article id
    source TEXT,                          -- publisher or feed ("bbc")
    url TEXT,
    published_unix_ms INTEGER,            -- producer's value, else the page's
    modified_unix_ms INTEGER,
    ingested_unix_ms INTEGER NOT NULL,    -- when the worker committed it
    language TEXT NOT NULL,               -- ISO 639-1, "und" if unknown
    language_confidence REAL NOT NULL,
    content_type TEXT NOT NULL,           -- "text" or "html"
    title TEXT NOT NULL,
    byline TEXT,
    n_bytes INTEGER NOT NULL,             -- counts of body
    n_chars INTEGER NOT NULL,
    n_words INTEGER NOT NULL,
    n_sentences INTEGER NOT NULL,
    n_paragraphs INTEGER NOT NULL,
    n_syllables INTEGER NOT NULL,
    avg_sentence_words REAL NOT NULL,
    flesch_reading_ease REAL NOT NULL,
    flesch_kincaid_grade REAL NOT NULL,
    fp_exact INTEGER NOT NULL,            -- hash of the normalised text
    simhash INTEGER NOT NULL,             -- 64-bit SimHash
    sh0 INTEGER NOT NULL,                 -- simhash bits 0..15
    sh1 INTEGER NOT NULL,                 -- bits 16..31
    sh2 INTEGER NOT NULL,                 -- bits 32..47
    sh3 INTEGER NOT NULL,                 -- bits 48..63
    minhash BLOB,                         -- 64 x uint32 little-endian
    warnings TEXT,                        -- extraction warnings, one per line
    revision INTEGER NOT NULL DEFAULT 0,  -- the queue's revision of the body stored (see
                                          -- REVISIONS above); 0 = none known
    -- packed (PACKED COLUMNS), in the order the migration adds them:
    sentences_packed BLOB NOT NULL DEFAULT x'',  -- read as articles.sentences_json
    body_zstd BLOB NOT NULL DEFAULT x'',         -- the body, zstd-compressed
    keyphrases_packed BLOB NOT NULL DEFAULT x''  -- read through the view `keyphrases`
);
CREATE INDEX articles_ingested ON article_rows (ingested_unix_ms);
CREATE INDEX articles_published ON article_rows (published_unix_ms);
CREATE INDEX articles_fp_exact ON article_rows (fp_exact);
CREATE INDEX articles_sh0 ON article_rows (sh0);
CREATE INDEX articles_sh1 ON article_rows (sh1);
CREATE INDEX articles_sh2 ON article_rows (sh2);
CREATE INDEX articles_sh3 ON article_rows (sh3);

-- Articles as version 4 stored them: every stored column but the packed
-- ones, and the columns computed from those (PACKED COLUMNS). Read this;
-- write article_rows.
CREATE VIEW articles AS
    SELECT article, id, source, url, published_unix_ms, modified_unix_ms, ingested_unix_ms,
           language, language_confidence, content_type, title, byline, n_bytes, n_chars,
           n_words, n_sentences, n_paragraphs, n_syllables, avg_sentence_words,
           flesch_reading_ease, flesch_kincaid_grade, fp_exact, simhash, sh0, sh1, sh2, sh3,
           minhash, warnings, revision,
           nm_unzstd(body_zstd) AS body,  -- clean text; every offset indexes it
           nm_sentences_json(sentences_packed) AS sentences_json,
           nm_summary(nm_unzstd(body_zstd), sentences_packed) AS summary,
           nm_keyphrases_json(keyphrases_packed) AS keyphrases_json
    FROM article_rows;

-- Full-text index over title and body, reading its text from the view
-- articles by name (external content: the body is stored once; snippet(),
-- 'delete' and 'rebuild' read through the view, so they need nm_store's
-- functions). nm_store writes it in the same transaction as the article,
-- with plain statements and no triggers: a trigger makes FTS5 flush its
-- in-memory index at every statement, which made writing 2-3x slower.
-- Whoever changes article_rows.title/body_zstd by hand must do the same, or
-- rebuild the index afterwards (with the functions):
--   INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
-- Search: SELECT a.id FROM articles_fts JOIN articles a ON a.article = articles_fts.rowid
--         WHERE articles_fts MATCH 'ceasefire' ORDER BY rank;
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body,
    content = 'articles', content_rowid = 'article',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Each committed batch adds an index segment; merge them 16 at a time (the
-- default, 4, merges 4x as often): indexing cost 110 -> 80 us per article,
-- queries unchanged (see docs/throughput.md, "How it got here").
INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 16);

-- Sentences in article order; paragraph numbers group them into paragraphs.
-- articles.sentences_json holds, for sentence idx, the array
-- [paragraph, start_byte, end_byte, n_words] plus summary_rank when it is
-- part of the summary.
CREATE VIEW sentences (article, idx, paragraph, start_byte, end_byte, n_words,
                       summary_rank) AS
    SELECT a.article, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
           j.value ->> 4                  -- 1.. when part of the summary, else NULL
    FROM article_rows a, json_each(nm_sentences_json(a.sentences_packed)) j;

-- Sections: a heading and the paragraphs under it.
CREATE TABLE sections (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    level INTEGER NOT NULL,               -- 1 = top
    heading TEXT NOT NULL,
    start_byte INTEGER NOT NULL,          -- the heading's span
    end_byte INTEGER NOT NULL,
    first_paragraph INTEGER NOT NULL,
    n_paragraphs INTEGER NOT NULL,
    outline_idx INTEGER,                  -- outline item announcing it, or NULL
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

-- The article's own table of contents, when it has one.
CREATE TABLE outline (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    section_idx INTEGER,                  -- sections.idx it announces, or NULL
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

-- Named entities, one row per (canonical name, type), shared by all articles.
-- Never deleted: ids are stable, so workers may cache them.
CREATE TABLE entities (
    entity INTEGER PRIMARY KEY,
    name TEXT NOT NULL,                   -- canonical form ("Ibrahim Kalın")
    type TEXT NOT NULL,                   -- person, organisation, place, nationality, other
    UNIQUE (name, type)
);

-- Which articles mention which entities, how often and how centrally.
CREATE TABLE article_entities (
    article INTEGER NOT NULL,
    entity INTEGER NOT NULL,
    n_mentions INTEGER NOT NULL,
    salience REAL NOT NULL,               -- 0..1
    mentions_packed BLOB NOT NULL DEFAULT x'', -- see PACKED COLUMNS; the view mentions
    PRIMARY KEY (article, entity)
) WITHOUT ROWID;
CREATE INDEX article_entities_entity ON article_entities (entity, article);

-- Every mention: where it is and in which sentence. nm_mentions_json() of
-- article_entities.mentions_packed gives [idx, start_byte, end_byte,
-- sentence] per mention of that entity; idx numbers the article's mentions
-- in text order.
CREATE VIEW mentions (article, idx, entity, start_byte, end_byte, sentence) AS
    SELECT ae.article, j.value ->> 0, ae.entity,
           j.value ->> 1, j.value ->> 2,  -- the surface text ("Kalın")
           j.value ->> 3                  -- sentences.idx, or NULL
    FROM article_entities ae, json_each(nm_mentions_json(ae.mentions_packed)) j;

-- Acronyms with the expansion the article gives them.
CREATE TABLE acronyms (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    short_form TEXT NOT NULL,             -- "MIT"
    long_form TEXT NOT NULL,              -- "National Intelligence Organization"
    short_start_byte INTEGER NOT NULL,
    short_end_byte INTEGER NOT NULL,
    long_start_byte INTEGER NOT NULL,
    long_end_byte INTEGER NOT NULL,
    n_uses INTEGER NOT NULL,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;
CREATE INDEX acronyms_short ON acronyms (short_form);

-- Keyphrases, best first (rank 1 = best); scores compare within an article.
-- Ten or so per article, only ever read per article: packed in
-- article_rows.keyphrases_packed (PACKED COLUMNS), unpacked here.
CREATE VIEW keyphrases (article, rank, phrase, stem, score, n_occurrences) AS
    SELECT a.article, j.key + 1, j.value ->> 0, j.value ->> 1,
           nm_keyphrase_score(a.keyphrases_packed, j.key), j.value ->> 3
    FROM article_rows a, json_each(nm_keyphrases_json(a.keyphrases_packed)) j;

PRAGMA user_version = 5;
