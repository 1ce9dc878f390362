/*
 * nm_extract: the pipeline (see nm_extract.h). This file only orchestrates:
 * every stage lives in its own module (nm_text, nm_html, nm_token,
 * nm_sentence, nm_structure, nm_readability, nm_fingerprint, ...).
 *
 * Scratch memory that is not part of the result (tokens, sentence ends) lives
 * in a workspace taken from a small pool inside the extractor and returned
 * after the call, so steady-state extraction allocates only the result's
 * arena. The pool is the extractor's only mutable state, behind a mutex.
 */
#include "nm_extract.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nm_acronym.h"
#include "nm_alloc.h"
#include "nm_doc.h"
#include "nm_html.h"
#include "nm_entities.h"
#include "nm_fingerprint.h"
#include "nm_keyphrase.h"
#include "nm_lang.h"
#include "nm_lexicon.h"
#include "nm_readability.h"
#include "nm_recognizer.h"
#include "nm_sentence.h"
#include "nm_stem.h"
#include "nm_structure.h"
#include "nm_summary.h"
#include "nm_time.h"
#include "nm_token.h"
#include "nm_utf8.h"

#define DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define HARD_MAX_INPUT ((size_t)1 << 30) /* offsets are 32-bit */

#define MAX_ACRONYMS 256

/* Languages with an optional entity model (data_dir/ner-model-<lang>.bin)
 * besides English (data_dir/ner-model.bin, required). */
#define N_OPTIONAL_LANGS 4
static const char *const optional_langs[N_OPTIONAL_LANGS] = {"de", "fr", "nl", "pt"};

/* An article of unidentified language ("und") with fewer words than this is
 * too short to tell: the English recogniser runs (as before languages chose
 * models). A longer one is in a language the detector does not know: no
 * entities. */
#define UND_ENGLISH_MAX_WORDS 50

typedef struct workspace {
    struct workspace *next;
    nm_token_vec toks;
    uint32_t *ends; /* sentence ends (token index one past each sentence) */
    size_t ends_cap;
    uint8_t *labels;     /* per token: entity label */
    int32_t *word_ids;   /* per token: content word id or -1 */
    uint16_t *stopmask;  /* per token: stop word of which languages */
    uint8_t *sent_flags; /* per sentence: 1 = heading */
    uint8_t *sent_prose; /* per sentence: 1 = prose */
    size_t tok_cap, sent_cap;
    nm_scratch scratch;
    nm_stem *stem;
    nm_acronym_def acr[MAX_ACRONYMS];
    uint64_t syl_key[4096]; /* syllables by lower-case word hash (direct-mapped memo) */
    uint8_t syl_val[4096];
} workspace;

struct nm_extractor {
    nm_extractor_config cfg;
    char *data_dir;
    nm_lang *langs;
    nm_recognizer *rec;                      /* English (required) */
    nm_recognizer *rec_opt[N_OPTIONAL_LANGS]; /* optional_langs[i]; NULL = absent */
    char models_note[512];                   /* which entity models loaded, which absent */
    nm_lexicon *groups; /* nationality / group words */
    pthread_mutex_t pool_lock;
    workspace *pool;
};

/* The optional languages' recognisers: an absent model is noted (the
 * language then gets no entities); a model that is there but corrupt, of
 * another version or of another language fails the extractor. */
static int load_optional_recognizers(nm_extractor *ex, nm_error *err)
{
    char loaded[128] = "en", absent[128] = "";
    for (size_t i = 0; i < N_OPTIONAL_LANGS; i++) {
        nm_error e;
        ex->rec_opt[i] = nm_recognizer_new_lang(ex->cfg.recognizer, ex->data_dir,
                                                optional_langs[i], &e);
        char *list = ex->rec_opt[i] ? loaded : absent;
        if (!ex->rec_opt[i] && e.code != NM_ERR_NOT_FOUND) {
            *err = e;
            return -1;
        }
        size_t used = strlen(list);
        snprintf(list + used, 128 - used, "%s%s", used ? " " : "", optional_langs[i]);
    }
    snprintf(ex->models_note, sizeof ex->models_note, "entity models (%s): %s%s%s%s",
             ex->cfg.recognizer, loaded, *absent ? "; absent (no entities in those languages): " : "",
             absent, *absent ? (strcmp(ex->cfg.recognizer, "rules") == 0
                                    ? " (rules are English only)"
                                    : " (no ner-model-<lang>.bin in the data dir)")
                             : "");
    return 0;
}

const char *nm_extractor_entity_models(const nm_extractor *ex)
{
    return ex->models_note;
}

nm_extractor *nm_extractor_new(const nm_extractor_config *cfg, nm_error *err)
{
    nm_extractor *ex = nm_xcalloc(1, sizeof *ex);
    if (cfg)
        ex->cfg = *cfg;
    if (!ex->cfg.max_input_bytes)
        ex->cfg.max_input_bytes = DEFAULT_MAX_INPUT;
    if (ex->cfg.max_input_bytes > HARD_MAX_INPUT)
        ex->cfg.max_input_bytes = HARD_MAX_INPUT;
    if (!ex->cfg.summary_sentences)
        ex->cfg.summary_sentences = 3;
    if (!ex->cfg.max_keyphrases)
        ex->cfg.max_keyphrases = 10;
    const char *dir = ex->cfg.data_dir;
    if (!dir || !*dir)
        dir = getenv("NEWSMILL_DATA");
    char default_dir[4096];
    if (!dir || !*dir)
        dir = nm_default_data_dir(default_dir, sizeof default_dir);
    if (!ex->cfg.summary_words)
        ex->cfg.summary_words = 100;
    ex->data_dir = nm_xstrdup(dir);
    ex->cfg.data_dir = ex->data_dir;
    pthread_mutex_init(&ex->pool_lock, NULL);
    ex->langs = nm_lang_new(ex->data_dir, err);
    if (!ex->langs)
        goto fail;
    ex->rec = nm_recognizer_new(ex->cfg.recognizer ? ex->cfg.recognizer : "model", ex->data_dir, err);
    if (!ex->rec)
        goto fail;
    ex->cfg.recognizer = nm_recognizer_kind(ex->rec);
    if (load_optional_recognizers(ex, err) != 0)
        goto fail;
    ex->groups = nm_lexicon_new();
    static const nm_lexicon_class nat[] = {{"nat", 1}};
    char path[4096];
    snprintf(path, sizeof path, "%s/ner-gazetteer.txt", ex->data_dir);
    if (nm_lexicon_load(ex->groups, path, nat, 1, 0, err) < 0)
        goto fail;
    return ex;
fail:
    nm_error_prefix(err, "extractor (data dir %s)", ex->data_dir);
    nm_extractor_destroy(&ex);
    return NULL;
}

char *nm_default_data_dir(char *buf, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, size, "%s", NM_DATA_REL);
        return buf;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    const char *rel = NM_DATA_REL;
    while (!strncmp(rel, "../", 3)) {
        slash = strrchr(exe, '/');
        if (slash && slash != exe)
            *slash = '\0';
        else
            snprintf(exe, sizeof exe, "/");
        rel += 3;
    }
    snprintf(buf, size, "%s%s%s", exe, exe[strlen(exe) - 1] == '/' ? "" : "/", rel);
    return buf;
}

static void workspace_free(workspace *w)
{
    nm_token_vec_free(&w->toks);
    free(w->ends);
    free(w->labels);
    free(w->word_ids);
    free(w->stopmask);
    free(w->sent_flags);
    free(w->sent_prose);
    nm_scratch_free(&w->scratch);
    nm_stem_destroy(&w->stem);
    free(w);
}

void nm_extractor_destroy(nm_extractor **exp)
{
    if (!exp || !*exp)
        return;
    nm_extractor *ex = *exp;
    while (ex->pool) {
        workspace *w = ex->pool;
        ex->pool = w->next;
        workspace_free(w);
    }
    pthread_mutex_destroy(&ex->pool_lock);
    nm_lang_destroy(&ex->langs);
    nm_recognizer_destroy(&ex->rec);
    for (size_t i = 0; i < N_OPTIONAL_LANGS; i++)
        nm_recognizer_destroy(&ex->rec_opt[i]);
    nm_lexicon_destroy(&ex->groups);
    free(ex->data_dir);
    free(ex);
    *exp = NULL;
}

static workspace *workspace_get(const nm_extractor *cex)
{
    nm_extractor *ex = (nm_extractor *)cex; /* only the pool is mutable */
    pthread_mutex_lock(&ex->pool_lock);
    workspace *w = ex->pool;
    if (w)
        ex->pool = w->next;
    pthread_mutex_unlock(&ex->pool_lock);
    if (!w) {
        w = nm_xcalloc(1, sizeof *w);
        w->stem = nm_stem_new();
    }
    w->toks.n = 0;
    return w;
}

static void workspace_put(const nm_extractor *cex, workspace *w)
{
    nm_extractor *ex = (nm_extractor *)cex;
    if (w->toks.cap > (1u << 20) || w->scratch.cap > (64u << 20)) { /* do not keep a huge article's scratch */
        workspace_free(w);
        return;
    }
    pthread_mutex_lock(&ex->pool_lock);
    w->next = ex->pool;
    ex->pool = w;
    pthread_mutex_unlock(&ex->pool_lock);
}

const char *nm_extract_stage_name(nm_extract_stage stage)
{
    static const char *const names[] = {"parse", "tokens", "sentences",
                                        "language", "entities", "keyphrases", "summary",
                                        "fingerprints"};
    return (unsigned)stage < NM_STAGE_COUNT ? names[stage] : "unknown";
}

const char *nm_entity_type_name(nm_entity_type type)
{
    static const char *const names[] = {"person", "organisation", "place", "nationality", "other"};
    return (unsigned)type < NM_ENTITY_TYPE_COUNT ? names[type] : "other";
}

void nm_extract_result_free(nm_extract_result **r)
{
    if (!r || !*r)
        return;
    nm_arena *a = (*r)->arena;
    nm_arena_destroy(&a);
    *r = NULL;
}

/* ---- content type ---------------------------------------------------- */

/* Case-insensitive search for a needle that starts with '<'. */
static int ci_find(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    const char *end = s + len, *p = s;
    while ((p = memchr(p, '<', (size_t)(end - p))) && (size_t)(end - p) >= n) {
        size_t k = 1;
        while (k < n && (p[k] | 0x20) == needle[k])
            k++;
        if (k == n)
            return 1;
        p++;
    }
    return 0;
}

/* HTML when the first visible byte is '<' and a tag follows, or when the
 * first 4 KiB hold several block tags. */
static int looks_like_html(const char *s, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    size_t win = len - i < 4096 ? len - i : 4096;
    const char *p = s + i;
    if (win > 1 && p[0] == '<' && (p[1] == '!' || p[1] == '?' || ((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z'))) {
        if (ci_find(p, win, "<html") || ci_find(p, win, "<!doctype") || ci_find(p, win, "<head") ||
            ci_find(p, win, "<body") || ci_find(p, win, "</"))
            return 1;
    }
    int tags = 0;
    static const char *const block_tags[] = {"<p>", "</p>", "<div", "<br", "<h1", "<h2", "<li>", "<a href"};
    for (size_t k = 0; k < sizeof block_tags / sizeof block_tags[0]; k++)
        tags += ci_find(p, win, block_tags[k]);
    return tags >= 3;
}

static int only_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0))
            return 0;
    }
    return 1;
}

/* ---- result assembly -------------------------------------------------- */

static void add_warning(nm_extract_result *r, const char *msg)
{
    r->warnings = nm_arena_grow(r->arena, r->warnings, r->n_warnings * sizeof *r->warnings,
                                (r->n_warnings + 1) * sizeof *r->warnings);
    r->warnings[r->n_warnings++] = nm_arena_strndup(r->arena, msg, strlen(msg));
}

static const char *meta_value(const nm_extract_input *in, const char *key)
{
    for (size_t i = 0; i < in->n_metadata; i++) {
        if (in->metadata[i].key && in->metadata[i].value && !strcmp(in->metadata[i].key, key))
            return in->metadata[i].value;
    }
    return NULL;
}

static const char *dup_or_null(nm_arena *a, const char *s)
{
    return s ? nm_arena_strndup(a, s, strlen(s)) : NULL;
}

/* Joins the blocks with blank lines into r->text; one paragraph per block. */
static void build_text(nm_extract_result *r, const nm_doc *doc)
{
    size_t total = 0;
    for (size_t i = 0; i < doc->n_blocks; i++)
        total += doc->blocks[i].len + 2;
    char *t = nm_arena_alloc(r->arena, total + 1);
    r->paragraphs = nm_arena_calloc(r->arena, doc->n_blocks ? doc->n_blocks : 1, sizeof *r->paragraphs);
    size_t o = 0;
    for (size_t i = 0; i < doc->n_blocks; i++) {
        if (i) {
            t[o++] = '\n';
            t[o++] = '\n';
        }
        nm_paragraph *p = &r->paragraphs[i];
        p->span.start = (uint32_t)o;
        memcpy(t + o, doc->blocks[i].text, doc->blocks[i].len);
        o += doc->blocks[i].len;
        p->span.end = (uint32_t)o;
        p->kind = (uint8_t)doc->blocks[i].kind;
        p->section = NM_NO_INDEX;
    }
    t[o] = '\0';
    r->text = t;
    r->text_len = o;
    r->n_paragraphs = doc->n_blocks;
}

static void *grow(void *p, size_t *cap, size_t want, size_t elem)
{
    if (*cap >= want)
        return p;
    size_t c = *cap ? *cap : 1024;
    while (c < want)
        c *= 2;
    *cap = c;
    return nm_xrealloc(p, c * elem);
}

/* Tokens of every paragraph; para_tok[i] = first token of paragraph i
 * (para_tok[n] = end). */
static void tokenize(nm_extract_result *r, workspace *w, uint32_t *para_tok)
{
    nm_token_vec *tv = &w->toks;
    for (size_t i = 0; i < r->n_paragraphs; i++) {
        para_tok[i] = (uint32_t)tv->n;
        nm_tokenize(r->text, r->paragraphs[i].span.start, r->paragraphs[i].span.end, tv);
    }
    para_tok[r->n_paragraphs] = (uint32_t)tv->n;
}

/* Sentences (ends in w->ends, global token indexes) and word counts. */
static void split_sentences(nm_extract_result *r, workspace *w, const uint32_t *para_tok)
{
    nm_token_vec *tv = &w->toks;
    /* at most one sentence per token, at least one per paragraph */
    size_t cap = tv->n + r->n_paragraphs + 1;
    if (w->ends_cap < cap) {
        w->ends = nm_xrealloc(w->ends, cap * sizeof *w->ends);
        w->ends_cap = cap;
    }
    size_t n_sent = 0;
    uint32_t *ends = w->ends;
    for (size_t i = 0; i < r->n_paragraphs; i++)
        n_sent += nm_sentence_split(r->text, tv->v, para_tok[i], para_tok[i + 1], ends + n_sent);
    r->sentences = nm_arena_calloc(r->arena, n_sent ? n_sent : 1, sizeof *r->sentences);
    r->n_sentences = n_sent;
    size_t old = w->sent_cap;
    w->sent_flags = grow(w->sent_flags, &old, n_sent + 1, 1);
    w->sent_prose = grow(w->sent_prose, &w->sent_cap, n_sent + 1, 1);
    size_t s = 0;
    nm_counts *c = &r->counts;
    for (size_t i = 0; i < r->n_paragraphs; i++) {
        nm_paragraph *p = &r->paragraphs[i];
        p->first_sentence = (uint32_t)s;
        uint32_t k = para_tok[i];
        while (k < para_tok[i + 1]) {
            nm_sentence *sen = &r->sentences[s];
            uint32_t e = ends[s];
            sen->span.start = tv->v[k].start;
            sen->span.end = tv->v[e - 1].end;
            sen->paragraph = (uint32_t)i;
            uint32_t words = 0, syl = 0;
            for (uint32_t q = k; q < e; q++) {
                const nm_token *t = &tv->v[q];
                if (!nm_token_is_word(t))
                    continue;
                words++;
                if (t->kind == NM_TOK_NUMBER) {
                    syl++;
                    continue;
                }
                size_t slot = (size_t)(t->lhash & 4095);
                if (w->syl_key[slot] != t->lhash) {
                    unsigned n_syl = nm_syllables(r->text + t->start, t->end - t->start);
                    w->syl_key[slot] = t->lhash;
                    w->syl_val[slot] = (uint8_t)(n_syl > 255 ? 255 : n_syl);
                }
                syl += w->syl_val[slot];
            }
            sen->n_words = words;
            c->words += words;
            w->sent_flags[s] = p->kind == NM_BLOCK_HEADING;
            w->sent_prose[s] = p->kind == NM_BLOCK_PARAGRAPH || p->kind == NM_BLOCK_QUOTE;
            if (p->kind != NM_BLOCK_HEADING) /* readability is about prose */
                c->syllables += syl;
            s++;
            k = e;
        }
        p->n_sentences = (uint32_t)(s - p->first_sentence);
    }
}

static void count_text(nm_extract_result *r)
{
    nm_counts *c = &r->counts;
    c->bytes = (uint32_t)r->text_len;
    uint32_t chars = 0;
    for (size_t i = 0; i < r->text_len; i++)
        chars += ((unsigned char)r->text[i] & 0xC0) != 0x80;
    c->chars = chars;
    c->sentences = (uint32_t)r->n_sentences;
    c->paragraphs = (uint32_t)r->n_paragraphs;
    /* readability over prose sentences only */
    nm_counts prose = *c;
    prose.words = 0;
    prose.sentences = 0;
    for (size_t i = 0; i < r->n_sentences; i++) {
        if (r->paragraphs[r->sentences[i].paragraph].kind == NM_BLOCK_HEADING)
            continue;
        prose.words += r->sentences[i].n_words;
        prose.sentences++;
    }
    nm_readability_scores(&prose);
    c->avg_sentence_words = prose.avg_sentence_words;
    c->flesch_reading_ease = prose.flesch_reading_ease;
    c->flesch_kincaid_grade = prose.flesch_kincaid_grade;
}

static int parse_input(const nm_extractor *ex, const nm_extract_input *in, nm_extract_result *r,
                       nm_doc *doc, nm_error *err)
{
    nm_content_type ct = in->content_type;
    if (ct == NM_CONTENT_GUESS)
        ct = looks_like_html(in->body, in->len) ? NM_CONTENT_HTML : NM_CONTENT_TEXT;
    if (ct == NM_CONTENT_HTML) {
        r->content_type = "html";
        if (nm_html_parse(r->arena, in->body, in->len, doc, err) < 0)
            return -1;
        return 0;
    }
    r->content_type = "text";
    size_t bad;
    if (!nm_utf8_valid(in->body, in->len, &bad))
        return nm_error_set(err, NM_ERR_UTF8, "text is not valid UTF-8 at byte %zu", bad);
    if (memchr(in->body, '\0', in->len))
        add_warning(r, "NUL bytes replaced by spaces");
    if (in->content_type == NM_CONTENT_TEXT && looks_like_html(in->body, in->len))
        add_warning(r, "text looks like HTML; treated as text as asked");
    (void)ex;
    return nm_text_parse(r->arena, in->body, in->len, doc, err);
}

static void find_acronyms(nm_extract_result *r, workspace *w, size_t *n_out)
{
    const nm_token *toks = w->toks.v;
    size_t n = nm_acronyms_find(r->text, toks, w->toks.n, w->ends, r->n_sentences, w->acr, MAX_ACRONYMS);
    *n_out = n;
    r->acronyms = nm_arena_calloc(r->arena, n ? n : 1, sizeof *r->acronyms);
    r->n_acronyms = n;
    for (size_t i = 0; i < n; i++) {
        const nm_token *sh = &toks[w->acr[i].short_tok];
        nm_acronym *a = &r->acronyms[i];
        a->short_span.start = sh->start;
        a->short_span.end = sh->end;
        a->long_span.start = toks[w->acr[i].long_first].start;
        a->long_span.end = toks[w->acr[i].long_end - 1].end;
        a->short_form = nm_arena_strndup(r->arena, r->text + sh->start, sh->end - sh->start);
        a->long_form = nm_arena_strndup(r->arena, r->text + a->long_span.start,
                                        a->long_span.end - a->long_span.start);
    }
    /* uses: tokens with the same bytes */
    for (size_t k = 0; k < w->toks.n && n; k++) {
        for (size_t i = 0; i < n; i++) {
            const nm_token *sh = &toks[w->acr[i].short_tok];
            if (toks[k].lhash == sh->lhash && toks[k].end - toks[k].start == sh->end - sh->start &&
                !memcmp(r->text + toks[k].start, r->text + sh->start, sh->end - sh->start))
                r->acronyms[i].n_uses++;
        }
    }
}

/* Profiles count this thread's CPU time (other processes do not inflate it). */
static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void lap(nm_extract_profile *prof, nm_extract_stage st, int64_t *t)
{
    if (!prof)
        return;
    int64_t now = cpu_now_ns();
    prof->stage_ns[st] += now - *t;
    *t = now;
}

int nm_extract(const nm_extractor *ex, const nm_extract_input *in, nm_extract_result **out,
               nm_error *err)
{
    return nm_extract_profiled(ex, in, out, NULL, err);
}

/* The input policy (see nm_extract.h): 0, or -1 with err. */
static int check_input(const nm_extractor *ex, const nm_extract_input *in, nm_error *err)
{
    if (!in || (!in->body && in->len))
        return nm_error_set(err, NM_ERR_INVALID, "no input body");
    if (in->len > ex->cfg.max_input_bytes)
        return nm_error_set(err, NM_ERR_TOO_LARGE, "article is %zu bytes, limit %zu", in->len,
                            ex->cfg.max_input_bytes);
    if (in->len == 0 || only_space(in->body, in->len))
        return nm_error_set(err, NM_ERR_EMPTY, "article is empty");
    return 0;
}

/* Stage "parse": bytes -> *doc, and a new result (in its own arena) with
 * the article's metadata. NULL with err when nothing readable is found. */
static nm_extract_result *parse_article(const nm_extractor *ex, const nm_extract_input *in,
                                        nm_doc *doc, nm_error *err)
{
    nm_arena *arena = nm_arena_new(in->len * 4 + 16384 < (1u << 16) ? 1u << 16 : in->len * 4 + 16384);
    nm_extract_result *r = nm_arena_calloc(arena, 1, sizeof *r);
    r->arena = arena;
    if (parse_input(ex, in, r, doc, err) < 0) {
        nm_arena_destroy(&arena);
        return NULL;
    }
    if (doc->n_blocks == 0 && doc->title && doc->title[0]) {
        /* a one-line article: its line is both title and body */
        nm_block *b = nm_arena_calloc(arena, 1, sizeof *b);
        b->kind = NM_BLOCK_PARAGRAPH;
        b->text = doc->title;
        b->len = strlen(doc->title);
        doc->blocks = b;
        doc->n_blocks = 1;
    }
    if (doc->n_blocks == 0) {
        nm_arena_destroy(&arena);
        nm_error_set(err, NM_ERR_EMPTY, "no readable text");
        return NULL;
    }
    r->id = dup_or_null(arena, in->id);
    r->source = dup_or_null(arena, in->source);
    r->url = dup_or_null(arena, in->url ? in->url : doc->canonical_url);
    const char *title = meta_value(in, "title");
    r->title = dup_or_null(arena, title ? title : doc->title ? doc->title : "");
    const char *byline = meta_value(in, "byline");
    r->byline = dup_or_null(arena, byline ? byline : doc->byline);
    r->published_unix_ms = in->published_unix_ms ? in->published_unix_ms : doc->published_unix_ms;
    r->modified_unix_ms = doc->modified_unix_ms;
    r->language = "und";
    return r;
}

/* Stage "language": the hint, else the page's declared language for a
 * short text, else detection; sets r->language and its confidence and
 * returns the language index (-1: unknown). Fills w->stopmask (and sizes
 * the per-token arrays of w) on the way. */
static int find_language(const nm_extractor *ex, const nm_extract_input *in, const nm_doc *doc,
                         nm_extract_result *r, workspace *w)
{
    const nm_token *toks = w->toks.v;
    size_t n = w->toks.n;
    size_t cap = n + 1;
    size_t tc = w->tok_cap, tc2 = w->tok_cap;
    w->labels = grow(w->labels, &tc, cap, 1);
    w->stopmask = grow(w->stopmask, &tc2, cap, sizeof *w->stopmask);
    w->word_ids = grow(w->word_ids, &w->tok_cap, cap, sizeof *w->word_ids);
    for (size_t i = 0; i < n; i++)
        w->stopmask[i] = toks[i].kind == NM_TOK_WORD ? (uint16_t)nm_lang_stopmask(ex->langs, toks[i].lhash) : 0;
    int lang;
    if (in->language_hint && in->language_hint[0]) {
        lang = nm_lang_index(in->language_hint);
        size_t hl = strcspn(in->language_hint, "-_");
        r->language = nm_arena_strndup(r->arena, in->language_hint, hl < 8 ? hl : 8);
        for (char *p = (char *)r->language; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        r->language_confidence = 1.0;
    } else {
        if (doc->language && nm_lang_index(doc->language) >= 0 && n < 30) {
            lang = nm_lang_index(doc->language); /* too short to detect: the page's word */
            r->language_confidence = 0.5;
        } else {
            char code[8];
            lang = nm_lang_identify(ex->langs, r->text, r->text_len, toks, n, w->stopmask, code,
                                    &r->language_confidence);
            r->language = nm_arena_strndup(r->arena, code, strlen(code));
            return lang;
        }
        r->language = nm_lang_code(lang);
    }
    return lang;
}

/* The recogniser for the article's language (r->language: the hint or the
 * detected code), or NULL when that language has none. */
static const nm_recognizer *recognizer_for(const nm_extractor *ex, const nm_extract_result *r)
{
    if (!strcmp(r->language, "en"))
        return ex->rec;
    if (!strcmp(r->language, "und"))
        return r->counts.words < UND_ENGLISH_MAX_WORDS ? ex->rec : NULL;
    for (size_t i = 0; i < N_OPTIONAL_LANGS; i++)
        if (!strcmp(r->language, optional_langs[i]))
            return ex->rec_opt[i];
    return NULL;
}

/* Stage "entities": acronyms, the recogniser's labels, mention grouping. An
 * article in a language without a recogniser gets no entity labels (never
 * another language's guesses) and a warning saying why. */
static void find_entities(const nm_extractor *ex, nm_extract_result *r, workspace *w)
{
    const nm_token *toks = w->toks.v;
    size_t n = w->toks.n;
    size_t n_acr;
    find_acronyms(r, w, &n_acr);
    const nm_recognizer *rec = recognizer_for(ex, r);
    if (rec) {
        nm_recognizer_input rin = {.text = r->text, .tokens = toks, .n = n, .sent_ends = w->ends,
                                   .n_sentences = r->n_sentences, .headline = w->sent_flags};
        nm_recognizer_label(rec, &rin, w->labels, &w->scratch);
    } else {
        /* Not even the acronym definitions' organisations: every entity
         * comes from the language's own recogniser. */
        memset(w->labels, NM_NER_O, n);
        char msg[96];
        snprintf(msg, sizeof msg, "no entity model for language %s", r->language);
        add_warning(r, msg);
        return;
    }
    nm_entities_input ein = {.tokens = toks, .n = n, .labels = w->labels, .sent_ends = w->ends,
                             .n_sentences = r->n_sentences, .acronyms = w->acr,
                             .n_acronyms = n_acr, .groups = ex->groups};
    nm_entities_build(r, &ein);
}

int nm_extract_profiled(const nm_extractor *ex, const nm_extract_input *in, nm_extract_result **out,
                        nm_extract_profile *prof, nm_error *err)
{
    *out = NULL;
    if (check_input(ex, in, err) < 0)
        return -1;
    int64_t t = prof ? cpu_now_ns() : 0;

    nm_doc doc;
    nm_extract_result *r = parse_article(ex, in, &doc, err);
    if (!r)
        return -1;
    lap(prof, NM_STAGE_PARSE, &t);

    build_text(r, &doc);
    workspace *w = workspace_get(ex);
    uint32_t *para_tok = nm_xmalloc((r->n_paragraphs + 1) * sizeof *para_tok);
    tokenize(r, w, para_tok);
    lap(prof, NM_STAGE_TOKENS, &t);

    split_sentences(r, w, para_tok);
    free(para_tok);
    nm_structure_build(r, &doc);
    count_text(r);
    lap(prof, NM_STAGE_SENTENCES, &t);

    int lang = find_language(ex, in, &doc, r, w);
    lap(prof, NM_STAGE_LANGUAGE, &t);

    find_entities(ex, r, w);
    lap(prof, NM_STAGE_ENTITIES, &t);

    nm_text_input tin = {.tokens = w->toks.v, .n = w->toks.n, .sent_ends = w->ends,
                         .n_sentences = r->n_sentences, .sent_prose = w->sent_prose,
                         .lang = lang, .langs = ex->langs, .stem = w->stem, .labels = w->labels,
                         .stopmask = w->stopmask};
    size_t n_words = 0;
    nm_keyphrases_extract(r, &tin, ex->cfg.max_keyphrases, w->word_ids, &n_words);
    lap(prof, NM_STAGE_KEYPHRASES, &t);
    nm_summary_build(r, &tin, w->word_ids, n_words, ex->cfg.summary_sentences, ex->cfg.summary_words);
    lap(prof, NM_STAGE_SUMMARY, &t);

    nm_fingerprints_compute(w->toks.v, w->toks.n, &r->fingerprints);
    lap(prof, NM_STAGE_FINGERPRINTS, &t);
    workspace_put(ex, w);
    *out = r;
    return 0;
}
