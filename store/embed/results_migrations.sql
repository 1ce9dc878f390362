-- newsmill results database: forward migrations (see results_schema.sql for
-- the rule). Each section "-- @version N" takes a database at version N-1 to
-- version N; nm_store runs the sections a database lacks, in order, inside
-- one transaction, then sets PRAGMA user_version = N itself. Append only:
-- never edit a released section.

-- @version 2
-- Adds: near-duplicate bands and minhash, modification time, the summary and
-- warnings on articles; summary ranks on sentences; the sentence of each
-- mention; outline, acronyms and keyphrases. The full-text index is kept by
-- nm_store itself from now on (no triggers: they made FTS5 flush per row).
DROP TRIGGER articles_fts_insert;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_update;
ALTER TABLE articles ADD COLUMN modified_unix_ms INTEGER;
ALTER TABLE articles ADD COLUMN sh0 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN sh1 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN sh2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN sh3 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN minhash BLOB;
ALTER TABLE articles ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN warnings TEXT;
UPDATE articles SET sh0 = simhash & 65535, sh1 = (simhash >> 16) & 65535,
                    sh2 = (simhash >> 32) & 65535, sh3 = (simhash >> 48) & 65535;
CREATE INDEX articles_sh0 ON articles (sh0);
CREATE INDEX articles_sh1 ON articles (sh1);
CREATE INDEX articles_sh2 ON articles (sh2);
CREATE INDEX articles_sh3 ON articles (sh3);

ALTER TABLE sentences ADD COLUMN summary_rank INTEGER;
ALTER TABLE sections ADD COLUMN outline_idx INTEGER;

ALTER TABLE mentions ADD COLUMN sentence INTEGER;
UPDATE mentions SET sentence = (
    SELECT s.idx FROM sentences s
    WHERE s.article = mentions.article
      AND s.start_byte <= mentions.start_byte AND mentions.start_byte < s.end_byte);

CREATE TABLE outline (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    section_idx INTEGER,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

CREATE TABLE acronyms (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    short_form TEXT NOT NULL,
    long_form TEXT NOT NULL,
    short_start_byte INTEGER NOT NULL,
    short_end_byte INTEGER NOT NULL,
    long_start_byte INTEGER NOT NULL,
    long_end_byte INTEGER NOT NULL,
    n_uses INTEGER NOT NULL,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;
CREATE INDEX acronyms_short ON acronyms (short_form);

CREATE TABLE keyphrases (
    article INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    phrase TEXT NOT NULL,
    stem TEXT NOT NULL,
    score REAL NOT NULL,
    n_occurrences INTEGER NOT NULL,
    PRIMARY KEY (article, rank)
) WITHOUT ROWID;

-- @version 3
-- Sentences and mentions move into JSON columns read through views of the
-- same names and columns (a third of the rows a worker writes); the
-- full-text index merges segments 16 at a time.
ALTER TABLE articles ADD COLUMN sentences_json TEXT NOT NULL DEFAULT '[]';
UPDATE articles SET sentences_json = (
    SELECT json_group_array(CASE WHEN summary_rank IS NULL
                                 THEN json_array(paragraph, start_byte, end_byte, n_words)
                                 ELSE json_array(paragraph, start_byte, end_byte, n_words,
                                                 summary_rank) END)
    FROM (SELECT * FROM sentences s WHERE s.article = articles.article ORDER BY s.idx));
DROP TABLE sentences;
CREATE VIEW sentences (article, idx, paragraph, start_byte, end_byte, n_words,
                       summary_rank) AS
    SELECT a.article, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
           j.value ->> 4
    FROM articles a, json_each(a.sentences_json) j;

ALTER TABLE article_entities ADD COLUMN mentions_json TEXT NOT NULL DEFAULT '[]';
UPDATE article_entities SET mentions_json = (
    SELECT json_group_array(json_array(idx, start_byte, end_byte, sentence))
    FROM (SELECT * FROM mentions m
          WHERE m.article = article_entities.article AND m.entity = article_entities.entity
          ORDER BY m.idx));
DROP TABLE mentions;
CREATE VIEW mentions (article, idx, entity, start_byte, end_byte, sentence) AS
    SELECT ae.article, j.value ->> 0, ae.entity, j.value ->> 1, j.value ->> 2, j.value ->> 3
    FROM article_entities ae, json_each(ae.mentions_json) j;

INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 16);

-- @version 4
-- The queue's revision of each stored body, so that an older body never
-- replaces a newer one (see REVISIONS in results_schema.sql). Rows stored
-- before have none known (0): the next put of their id replaces them.
ALTER TABLE articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- @version 5
-- Packed columns (see PACKED COLUMNS in results_schema.sql): the body
-- zstd-compressed, sentences, mentions and keyphrases packed (keyphrases
-- become a view like sentences), the summary computed from its sentences.
-- The table articles becomes article_rows (stored columns only; RENAME keeps
-- its indexes) and a view articles gives back version 4's columns, so the
-- queries and the full-text index (content='articles', read by name) read as
-- before. The space the old columns took is free pages in the file until a
-- VACUUM.
DROP VIEW sentences;
DROP VIEW mentions;
ALTER TABLE articles ADD COLUMN sentences_packed BLOB NOT NULL DEFAULT x'';
ALTER TABLE articles ADD COLUMN body_zstd BLOB NOT NULL DEFAULT x'';
ALTER TABLE articles ADD COLUMN keyphrases_packed BLOB NOT NULL DEFAULT x'';
UPDATE articles SET sentences_packed = nm_pack_sentences(sentences_json), body_zstd = nm_zstd(body),
    keyphrases_packed = ifnull((
        SELECT nm_pack_keyphrases(phrase, stem, score, n_occurrences)
        FROM (SELECT * FROM keyphrases k WHERE k.article = articles.article ORDER BY k.rank)),
        x'');
DROP TABLE keyphrases;
ALTER TABLE articles DROP COLUMN summary;
ALTER TABLE articles DROP COLUMN sentences_json;
ALTER TABLE articles DROP COLUMN body;
ALTER TABLE articles RENAME TO article_rows;
ALTER TABLE article_entities ADD COLUMN mentions_packed BLOB NOT NULL DEFAULT x'';
UPDATE article_entities SET mentions_packed = nm_pack_mentions(mentions_json);
ALTER TABLE article_entities DROP COLUMN mentions_json;
CREATE VIEW articles AS
    SELECT article, id, source, url, published_unix_ms, modified_unix_ms, ingested_unix_ms,
           language, language_confidence, content_type, title, byline, n_bytes, n_chars,
           n_words, n_sentences, n_paragraphs, n_syllables, avg_sentence_words,
           flesch_reading_ease, flesch_kincaid_grade, fp_exact, simhash, sh0, sh1, sh2, sh3,
           minhash, warnings, revision,
           nm_unzstd(body_zstd) AS body,
           nm_sentences_json(sentences_packed) AS sentences_json,
           nm_summary(nm_unzstd(body_zstd), sentences_packed) AS summary,
           nm_keyphrases_json(keyphrases_packed) AS keyphrases_json
    FROM article_rows;
CREATE VIEW sentences (article, idx, paragraph, start_byte, end_byte, n_words,
                       summary_rank) AS
    SELECT a.article, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
           j.value ->> 4
    FROM article_rows a, json_each(nm_sentences_json(a.sentences_packed)) j;
CREATE VIEW mentions (article, idx, entity, start_byte, end_byte, sentence) AS
    SELECT ae.article, j.value ->> 0, ae.entity, j.value ->> 1, j.value ->> 2, j.value ->> 3
    FROM article_entities ae, json_each(nm_mentions_json(ae.mentions_packed)) j;
CREATE VIEW keyphrases (article, rank, phrase, stem, score, n_occurrences) AS
    SELECT a.article, j.key + 1, j.value ->> 0, j.value ->> 1,
           nm_keyphrase_score(a.keyphrases_packed, j.key), j.value ->> 3
    FROM article_rows a, json_each(nm_keyphrases_json(a.keyphrases_packed)) j;
