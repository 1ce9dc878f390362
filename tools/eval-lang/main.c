/*
 * eval-lang: how well the language of an article is identified, on texts
 * nobody on this project wrote (docs/extraction.md, "Language
 * identification").
 *
 *   eval-lang [--detector shipped|stopwords|cld2|combo] [--shared DIR] [--locale DIR]
 *
 * Builds the test sets in memory from SHARED (default ../shared):
 *   wikiann-para   eval/wikiann/{en,de,fr,nl,pt}/dev.txt, sentences joined
 *                  five to a paragraph
 *   germeval-sent  eval/germeval2014/dev.tsv, one sentence a text
 *   germeval-para  the same sentences five to a paragraph
 *   html           the article bodies of eval/html/<id>.json (English but
 *                  for the eight pages of html_langs below)
 *   bbc            corpus/bbc/<topic>/<n>.txt (English)
 *   debian-msgs    the translated messages of LOCALE/<ll>/LC_MESSAGES/<p>.mo
 *                  for the Debian packages of mo_packages below (required on
 *                  every Debian system), 150 paragraphs of about 300 bytes per
 *                  language; skipped with a message when a language has none
 *                  (minimal images drop /usr/share/locale)
 * and prints one JSON line per set and language (accuracy, texts, CPU µs per
 * text of detection alone, the share of texts that asked CLD2), then a
 * summary line. Detectors: shipped = nm_lang_identify; stopwords = the
 * stop-word profiles alone; cld2 = CLD2 alone on --cld2-bytes; combo = the
 * shipped rule with --sure and --cld2-bytes as given (to measure levers).
 */
#include <dirent.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_cld2.h"
#include "nm_error.h"
#include "nm_fs.h"
#include "nm_lang.h"
#include "nm_opts.h"
#include "nm_sbuf.h"
#include "nm_token.h"

typedef struct text {
    const char *set;
    char gold[8];
    char *s;
    size_t len;
} text;

typedef struct texts {
    text *v;
    size_t n, cap;
} texts;

static void add(texts *t, const char *set, const char *gold, char *s, size_t len)
{
    if (t->n == t->cap)
        t->v = nm_xrealloc(t->v, (t->cap = t->cap ? t->cap * 2 : 1024) * sizeof *t->v);
    text *x = &t->v[t->n++];
    x->set = set;
    snprintf(x->gold, sizeof x->gold, "%s", gold);
    x->s = s;
    x->len = len;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of dir ending with suffix (full names). */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t cap = 64, sl = strlen(suffix);
    char **v = nm_xmalloc(cap * sizeof *v);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        if (*n == cap)
            v = nm_xrealloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = nm_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Appends a corpus token to a detokenised sentence: no space before closing
 * punctuation, none after an opening bracket. */
static void append_token(nm_sbuf *b, const char *tok, size_t len)
{
    bool glue = len == 1 && strchr(".,;:!?)]%", tok[0]);
    if (b->len > 0 && !glue && b->data[b->len - 1] != '(' && b->data[b->len - 1] != '[' &&
        b->data[b->len - 1] != ' ')
        nm_sbuf_append(b, " ", 1);
    nm_sbuf_append(b, tok, len);
}

/* Sentences of a WikiANN (`xx:TOKEN<TAB>TAG`) or GermEval (`N<TAB>TOKEN<TAB>..`,
 * `#` lines) file, then texts of `group` sentences each. */
static size_t add_conll(texts *t, const char *path, bool germeval, const char *set, const char *gold,
                        int group)
{
    size_t len;
    char *raw = nm_fs_read_file(path, &len);
    if (!raw)
        return 0;
    nm_sbuf para = {0}, sent = {0};
    int in_para = 0;
    size_t added = 0;
    char *line = raw;
    while (line < raw + len) {
        char *nl = strchr(line, '\n');
        if (!nl)
            nl = raw + len;
        *nl = '\0';
        if (germeval && line[0] == '#') {
            line = nl + 1;
            continue;
        }
        char *tok = NULL;
        if (line[0]) {
            char *tab = strchr(line, '\t');
            if (germeval) {
                tok = tab ? tab + 1 : NULL;
                char *tab2 = tok ? strchr(tok, '\t') : NULL;
                if (tab2)
                    *tab2 = '\0';
            } else if (tab) {
                *tab = '\0';
                char *colon = strchr(line, ':');
                tok = colon ? colon + 1 : line;
            }
        }
        if (tok && tok[0]) {
            append_token(&sent, tok, strlen(tok));
        } else if (sent.len > 0) { /* end of a sentence */
            if (para.len > 0)
                nm_sbuf_append(&para, " ", 1);
            nm_sbuf_append(&para, sent.data, sent.len);
            sent.len = 0;
            if (++in_para == group) {
                add(t, set, gold, nm_xstrndup(para.data, para.len), para.len);
                added++;
                para.len = 0;
                in_para = 0;
            }
        }
        line = nl + 1;
    }
    if (sent.len > 0) {
        if (para.len > 0)
            nm_sbuf_append(&para, " ", 1);
        nm_sbuf_append(&para, sent.data, sent.len);
    }
    if (para.len > 0) {
        add(t, set, gold, nm_xstrndup(para.data, para.len), para.len);
        added++;
    }
    nm_sbuf_free(&para);
    nm_sbuf_free(&sent);
    free(raw);
    return added;
}

/* The pages of eval/html that are not English, by id prefix (read from
 * their text and URL: .com.br, .kr, .it, Indonesian, .ru). */
static const struct {
    const char *id, *lang;
} html_langs[] = {
    {"0ec95c72", "ko"}, {"11ea381a", "pt"}, {"20b2b649", "it"}, {"21486419", "id"},
    {"23aaecd1", "pt"}, {"3252222e", "pt"}, {"3c6d3381", "ru"}, {"7837c9d6", "id"},
};

static size_t add_html(texts *t, const char *dir)
{
    size_t n, added = 0;
    char **names = list_dir(dir, ".json", &n);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *raw = nm_fs_read_file(path, &len);
        json_object *root = raw ? json_tokener_parse(raw) : NULL, *body;
        free(raw);
        if (root && json_object_object_get_ex(root, "articleBody", &body) &&
            json_object_is_type(body, json_type_string)) {
            const char *gold = "en";
            for (size_t k = 0; k < sizeof html_langs / sizeof html_langs[0]; k++)
                if (strncmp(names[i], html_langs[k].id, 8) == 0)
                    gold = html_langs[k].lang;
            const char *s = json_object_get_string(body);
            add(t, "html", gold, nm_xstrdup(s), strlen(s));
            added++;
        }
        json_object_put(root);
    }
    free_list(names, n);
    return added;
}

static size_t add_bbc(texts *t, const char *dir)
{
    size_t n_topics, added = 0;
    char **topics = list_dir(dir, "", &n_topics);
    for (size_t i = 0; i < n_topics; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, topics[i]);
        size_t n;
        char **files = list_dir(sub, ".txt", &n);
        for (size_t j = 0; j < n; j++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", sub, files[j]);
            size_t len;
            char *s = nm_fs_read_file(path, &len);
            if (s) {
                add(t, "bbc", "en", s, len);
                added++;
            }
        }
        free_list(files, n);
    }
    free_list(topics, n_topics);
    return added;
}

/* Debian packages whose catalogues are read: Essential or required, so on
 * every Debian system that keeps /usr/share/locale. */
static const char *const mo_packages[] = {"coreutils", "dpkg", "tar",  "grep", "sed",
                                          "findutils", "diffutils", "bash", "apt", "libc"};
static const char *const mo_langs[] = {"es", "it", "tr", "ru", "pl", "cs", "sk", "sv", "da", "nb",
                                       "fi", "hu", "ro", "id", "ca", "hr", "sl", "el", "uk", "bg",
                                       "ja", "ko", "vi", "et", "lt", "lv", "eu", "gl"};
#define MO_PARAS 150
#define MO_PARA_BYTES 300

static uint32_t mo_u32(const unsigned char *p, bool swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swap ? __builtin_bswap32(v) : v;
}

static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || i + k >= n + (k == 0))
            return false;
        for (unsigned j = 1; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

/* A message's words with format directives, markup, options and
 * identifiers (anything with % { < _ / = or a leading -) dropped. */
static void clean_message(const char *m, size_t n, nm_sbuf *out, int *words)
{
    *words = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (m[i] == ' ' || m[i] == '\n' || m[i] == '\t' || m[i] == '\r'))
            i++;
        size_t s = i;
        while (i < n && m[i] != ' ' && m[i] != '\n' && m[i] != '\t' && m[i] != '\r')
            i++;
        if (i == s)
            continue;
        bool drop = m[s] == '-';
        for (size_t k = s; k < i && !drop; k++)
            drop = strchr("%{}<>_/=\\", m[k]) != NULL;
        if (drop)
            continue;
        if (out->len > 0)
            nm_sbuf_append(out, " ", 1);
        nm_sbuf_append(out, m + s, i - s);
        (*words)++;
    }
}

/* The code a catalogue directory's language is expected as: Norwegian
 * Bokmål's catalogues are "nb", CLD2 (and ISO 639-1's macrolanguage) "no". */
static const char *mo_gold(const char *dir)
{
    return strcmp(dir, "nb") == 0 ? "no" : dir;
}

static size_t add_locale_lang(texts *t, const char *locale_dir, const char *lang)
{
    nm_sbuf para = {0}, msg = {0};
    size_t added = 0;
    for (size_t p = 0; p < sizeof mo_packages / sizeof mo_packages[0] && added < MO_PARAS; p++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/LC_MESSAGES/%s.mo", locale_dir, lang, mo_packages[p]);
        size_t len;
        unsigned char *mo = (unsigned char *)nm_fs_read_file(path, &len);
        if (!mo)
            continue;
        uint32_t magic = len >= 20 ? mo_u32(mo, false) : 0;
        bool swap = magic == 0xde120495;
        if (magic == 0x950412de || swap) {
            uint32_t count = mo_u32(mo + 8, swap), trans = mo_u32(mo + 16, swap);
            for (uint32_t k = 1; k < count && added < MO_PARAS; k++) { /* 0: the header */
                size_t e = (size_t)trans + (size_t)k * 8;
                if (e + 8 > len)
                    break;
                uint32_t mlen = mo_u32(mo + e, swap), off = mo_u32(mo + e + 4, swap);
                if ((size_t)off + mlen > len)
                    break;
                const char *m = (const char *)mo + off;
                for (size_t a = 0; a < mlen;) { /* plural forms: NUL-separated */
                    size_t b = a;
                    while (b < mlen && m[b])
                        b++;
                    int words;
                    msg.len = 0;
                    clean_message(m + a, b - a, &msg, &words);
                    if (words >= 4 && valid_utf8(msg.data, msg.len)) {
                        if (para.len > 0)
                            nm_sbuf_append(&para, " ", 1);
                        nm_sbuf_append(&para, msg.data, msg.len);
                        if (para.len > MO_PARA_BYTES) {
                            add(t, "debian-msgs", mo_gold(lang), nm_xstrndup(para.data, para.len), para.len);
                            para.len = 0;
                            if (++added == MO_PARAS)
                                break;
                        }
                    }
                    a = b + 1;
                }
            }
        }
        free(mo);
    }
    nm_sbuf_free(&para);
    nm_sbuf_free(&msg);
    return added;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef enum { DET_SHIPPED, DET_STOPWORDS, DET_CLD2, DET_COMBO } detector;

typedef struct group {
    const char *set;
    char lang[8];
    size_t n, right, cld2;
    int64_t ns;
} group;

int main(int argc, char **argv)
{
    const char *det_name = "shipped", *shared = "../shared", *locale_dir = "/usr/share/locale";
    double sure = NM_LANG_SURE;
    bool misses = false;
    int64_t cld2_bytes = NM_LANG_CLD2_BYTES;
    nm_opt opts[] = {
        {"detector", 0, NM_OPT_STRING, &det_name, "NAME",
         "shipped (nm_lang_identify), stopwords, cld2 or combo (the shipped rule with --sure, --cld2-bytes)", 0, 0},
        {"shared", 0, NM_OPT_STRING, &shared, "DIR", "the shared data (eval/, corpus/)", 0, 0},
        {"locale", 0, NM_OPT_STRING, &locale_dir, "DIR", "Debian's message catalogues", 0, 0},
        {"sure", 0, NM_OPT_DOUBLE, &sure, "X", "combo: stop-word confidence that skips CLD2", 0, 1},
        {"misses", 0, NM_OPT_FLAG, &misses, NULL, "also print each text identified wrongly (stderr)", 0, 0},
        {"cld2-bytes", 0, NM_OPT_INT, &cld2_bytes, "N", "cld2, combo: bytes CLD2 reads (0: all)", 0, 1 << 30},
    };
    nm_opts_program prog = {"eval-lang", "[OPTIONS]",
                            "Measures language identification on WikiANN, GermEval, HTML, BBC and Debian's "
                            "message catalogues: one JSON line per set and language, a summary last.",
                            opts, sizeof opts / sizeof opts[0], 0};
    int first;
    int rc = nm_opts_run(&prog, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    detector det;
    if (strcmp(det_name, "shipped") == 0)
        det = DET_SHIPPED;
    else if (strcmp(det_name, "stopwords") == 0)
        det = DET_STOPWORDS;
    else if (strcmp(det_name, "cld2") == 0)
        det = DET_CLD2;
    else if (strcmp(det_name, "combo") == 0)
        det = DET_COMBO;
    else {
        fprintf(stderr, "eval-lang: --detector must be shipped, stopwords, cld2 or combo, not %s (see --help)\n",
                det_name);
        return 2;
    }

    nm_error err = {0};
    nm_lang *L = nm_lang_new(NM_DATA_DIR, &err);
    if (!L) {
        fprintf(stderr, "event=error what=\"%s\"\n", err.msg);
        return 1;
    }

    texts t = {0};
    char path[4096];
    static const char *const wa_langs[] = {"en", "de", "fr", "nl", "pt"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/eval/wikiann/%s/dev.txt", shared, wa_langs[i]);
        if (add_conll(&t, path, false, "wikiann-para", wa_langs[i], 5) == 0) {
            fprintf(stderr, "event=error what=\"cannot read %s\"\n", path);
            return 1;
        }
    }
    snprintf(path, sizeof path, "%s/eval/germeval2014/dev.tsv", shared);
    if (add_conll(&t, path, true, "germeval-sent", "de", 1) == 0 ||
        add_conll(&t, path, true, "germeval-para", "de", 5) == 0) {
        fprintf(stderr, "event=error what=\"cannot read %s\"\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/eval/html", shared);
    if (add_html(&t, path) == 0) {
        fprintf(stderr, "event=error what=\"no pages in %s\"\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/corpus/bbc", shared);
    if (add_bbc(&t, path) == 0) {
        fprintf(stderr, "event=error what=\"no articles in %s\"\n", path);
        return 1;
    }
    size_t mo_missing = 0;
    for (size_t i = 0; i < sizeof mo_langs / sizeof mo_langs[0]; i++) {
        size_t got = add_locale_lang(&t, locale_dir, mo_langs[i]);
        if (got < MO_PARAS) {
            fprintf(stderr,
                    "event=skip set=debian-msgs lang=%s paragraphs=%zu wanted=%d why=\"too few messages in "
                    "%s/%s/LC_MESSAGES (minimal images drop /usr/share/locale)\"\n",
                    mo_langs[i], got, MO_PARAS, locale_dir, mo_langs[i]);
            mo_missing++;
            while (t.n > 0 && strcmp(t.v[t.n - 1].set, "debian-msgs") == 0 &&
                   strcmp(t.v[t.n - 1].gold, mo_gold(mo_langs[i])) == 0)
                free(t.v[--t.n].s);
        }
    }

    group *g = nm_xcalloc(t.n, sizeof *g);
    size_t n_groups = 0, right = 0, cld2_calls = 0;
    int64_t bbc_ns = 0;
    size_t bbc_n = 0;
    nm_token_vec toks = {0};
    uint16_t *masks = NULL;
    size_t mask_cap = 0;
    for (size_t i = 0; i < t.n; i++) {
        text *x = &t.v[i];
        toks.n = 0;
        nm_tokenize(x->s, 0, x->len, &toks);
        if (toks.n + 1 > mask_cap)
            masks = nm_xrealloc(masks, (mask_cap = (toks.n + 1) * 2) * sizeof *masks);
        for (size_t k = 0; k < toks.n; k++) /* computed for keyphrases anyway */
            masks[k] = toks.v[k].kind == NM_TOK_WORD ? (uint16_t)nm_lang_stopmask(L, toks.v[k].lhash) : 0;
        char code[8] = "und";
        double conf;
        bool asked = false, reliable;
        size_t cut = x->len;
        if (cld2_bytes > 0 && cut > (size_t)cld2_bytes) {
            cut = (size_t)cld2_bytes;
            while (cut > 0 && ((unsigned char)x->s[cut] & 0xC0) == 0x80)
                cut--;
        }
        int64_t t0 = cpu_ns();
        if (det == DET_SHIPPED) {
            nm_lang_identify(L, x->s, x->len, toks.v, toks.n, masks, code, &conf);
        } else if (det == DET_STOPWORDS) {
            snprintf(code, sizeof code, "%s", nm_lang_code(nm_lang_detect_masked(L, x->s, toks.v, toks.n, masks, &conf)));
        } else if (det == DET_CLD2) {
            nm_cld2_detect(x->s, cut, code, &reliable);
            asked = true;
        } else {
            int idx = nm_lang_detect_masked(L, x->s, toks.v, toks.n, masks, &conf);
            const char *sw = nm_lang_code(idx);
            if (idx >= 0 && strcmp(sw, "ru") != 0 && strcmp(sw, "ar") != 0 && conf >= sure) {
                snprintf(code, sizeof code, "%s", sw);
            } else {
                nm_cld2_detect(x->s, cut, code, &reliable);
                asked = true;
                if (strcmp(code, "und") == 0)
                    snprintf(code, sizeof code, "%s", sw);
            }
        }
        int64_t ns = cpu_ns() - t0;
        if (det == DET_SHIPPED) { /* did it ask CLD2? the same rule, without timing */
            int idx = nm_lang_detect_masked(L, x->s, toks.v, toks.n, masks, &conf);
            const char *sw = nm_lang_code(idx);
            asked = !(idx >= 0 && strcmp(sw, "ru") != 0 && strcmp(sw, "ar") != 0 && conf >= NM_LANG_SURE);
        }
        /* html: the non-English pages are one group */
        const char *glang = strcmp(x->set, "html") == 0 && strcmp(x->gold, "en") != 0 ? "other" : x->gold;
        size_t k = 0;
        while (k < n_groups && !(g[k].set == x->set && strcmp(g[k].lang, glang) == 0))
            k++;
        if (k == n_groups) {
            g[k].set = x->set;
            snprintf(g[k].lang, sizeof g[k].lang, "%s", glang);
            n_groups++;
        }
        bool ok = strcmp(code, x->gold) == 0;
        if (!ok && misses)
            fprintf(stderr, "event=miss set=%s gold=%s got=%s text=\"%.60s\"\n", x->set, x->gold, code, x->s);
        g[k].n++;
        g[k].right += ok;
        g[k].cld2 += asked;
        g[k].ns += ns;
        right += ok;
        cld2_calls += asked;
        if (strcmp(x->set, "bbc") == 0) {
            bbc_ns += ns;
            bbc_n++;
        }
    }
    for (size_t k = 0; k < n_groups; k++)
        printf("{\"set\":\"%s\",\"lang\":\"%s\",\"texts\":%zu,\"accuracy\":%.4f,\"us_per_text\":%.2f,"
               "\"asked_cld2\":%.3f}\n",
               g[k].set, g[k].lang, g[k].n, (double)g[k].right / (double)g[k].n,
               (double)g[k].ns / 1e3 / (double)g[k].n, (double)g[k].cld2 / (double)g[k].n);
    printf("{\"summary\":true,\"detector\":\"%s\",\"sure\":%.2f,\"cld2_bytes\":%lld,\"texts\":%zu,"
           "\"accuracy\":%.4f,\"asked_cld2\":%.3f,\"us_per_bbc_article\":%.2f,\"debian_msgs_langs_skipped\":%zu}\n",
           det_name, det == DET_SHIPPED ? NM_LANG_SURE : sure,
           det == DET_SHIPPED ? (long long)NM_LANG_CLD2_BYTES : (long long)cld2_bytes, t.n,
           t.n ? (double)right / (double)t.n : 0.0, t.n ? (double)cld2_calls / (double)t.n : 0.0,
           bbc_n ? (double)bbc_ns / 1e3 / (double)bbc_n : 0.0, mo_missing);
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i].s);
    free(t.v);
    free(g);
    free(masks);
    free(toks.v);
    nm_lang_destroy(&L);
    return 0;
}
