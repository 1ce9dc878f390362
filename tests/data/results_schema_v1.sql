-- newsmill results database, schema version 1 (as first released).
--
-- Kept only so that tests/unit/test_store.c can create a version 1 database
-- and check that the current code migrates it (results_migrations.sql).
-- Never edit: it is history.
CREATE TABLE articles (
    article INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT,
    url TEXT,
    published_unix_ms INTEGER,
    ingested_unix_ms INTEGER NOT NULL,
    language TEXT NOT NULL,
    language_confidence REAL NOT NULL,
    content_type TEXT NOT NULL,
    title TEXT NOT NULL,
    byline TEXT,
    n_bytes INTEGER NOT NULL,
    n_chars INTEGER NOT NULL,
    n_words INTEGER NOT NULL,
    n_sentences INTEGER NOT NULL,
    n_paragraphs INTEGER NOT NULL,
    n_syllables INTEGER NOT NULL,
    avg_sentence_words REAL NOT NULL,
    flesch_reading_ease REAL NOT NULL,
    flesch_kincaid_grade REAL NOT NULL,
    fp_exact INTEGER NOT NULL,
    simhash INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX articles_ingested ON articles (ingested_unix_ms);
CREATE INDEX articles_published ON articles (published_unix_ms);
CREATE INDEX articles_fp_exact ON articles (fp_exact);

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body,
    content = 'articles', content_rowid = 'article',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.article, new.title, new.body);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body)
    VALUES ('delete', old.article, old.title, old.body);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body)
    VALUES ('delete', old.article, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.article, new.title, new.body);
END;

CREATE TABLE sentences (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    paragraph INTEGER NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    n_words INTEGER NOT NULL,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

CREATE TABLE sections (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    level INTEGER NOT NULL,
    heading TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    first_paragraph INTEGER NOT NULL,
    n_paragraphs INTEGER NOT NULL,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

CREATE TABLE entities (
    entity INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    UNIQUE (name, type)
);

CREATE TABLE article_entities (
    article INTEGER NOT NULL,
    entity INTEGER NOT NULL,
    n_mentions INTEGER NOT NULL,
    salience REAL NOT NULL,
    PRIMARY KEY (article, entity)
) WITHOUT ROWID;
CREATE INDEX article_entities_entity ON article_entities (entity, article);

CREATE TABLE mentions (
    article INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    entity INTEGER NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    PRIMARY KEY (article, idx)
) WITHOUT ROWID;

PRAGMA user_version = 1;
