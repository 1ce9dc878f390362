/*
 * nm_html_meta: the article's metadata from the document.
 *
 * One iterative pass over the tree gathers the candidates (meta tags, <title>,
 * the first <h1>, link rel=canonical, JSON-LD blocks, <time> elements, the
 * first visible byline), then each field is chosen in a fixed order of trust:
 *   title      og:title, twitter:title, JSON-LD headline, <h1>, <title>; then
 *              the site suffix/prefix is removed
 *   byline     JSON-LD author, meta author (not a URL), itemprop=author,
 *              rel=author, a visible element classed byline/author
 *   dates      article:published_time & co., JSON-LD datePublished /
 *              dateModified, itemprop, <time datetime>, then a visible date
 *              in a <time> or date-classed element ("November 19, 2019")
 *   site name  og:site_name, application-name, JSON-LD publisher.name
 * JSON-LD is parsed with json-c with a nesting limit.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"

enum {
    F_OG_TITLE,
    F_TW_TITLE,
    F_LD_HEADLINE,
    F_H1,
    F_TITLE,
    F_SITE,
    F_DESC,
    F_LANG,
    F_CANON,
    F_OG_URL,
    F_LD_AUTHOR,
    F_META_AUTHOR,
    F_ITEMPROP_AUTHOR,
    F_VISIBLE_BYLINE,
    F_LD_SITE,
    F_COUNT
};

typedef struct meta_ctx {
    nm_arena *arena;
    const char *f[F_COUNT];
    int64_t published[4], modified[4]; /* by trust: meta, JSON-LD, itemprop, <time> */
    int64_t visible_date;
    const char *ld_body;
} meta_ctx;

static void set_once(meta_ctx *m, int field, const char *value)
{
    if (m->f[field] || !value)
        return;
    char *v = nm_html_clean_dup(m->arena, value, strlen(value));
    if (v)
        m->f[field] = v;
}

/* word is one of the space-separated words of list (case-insensitive). */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncasecmp(p, word, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static int64_t parse_visible_date(const char *s);

/* ISO 8601 first, then a written date ("19 Nov 2019 07:09 GMT"). */
static void date_once(int64_t *slot, const char *value)
{
    if (*slot == 0 && value) {
        *slot = nm_html_parse_date(value);
        if (*slot == 0 && strlen(value) < 64)
            *slot = parse_visible_date(value);
    }
}

/* ------------------------------------------------------------------ dates */

static int parse_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int64_t make_ms(int y, int mo, int d, int h, int mi, int s, int offset_min)
{
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return 0;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return ((int64_t)t - (int64_t)offset_min * 60) * 1000;
}

int64_t nm_html_parse_date(const char *s)
{
    if (!s)
        return 0;
    while (isspace((unsigned char)*s))
        s++;
    const char *p = s;
    int y = parse_digits(&p, 4);
    if (y >= 0 && isdigit((unsigned char)p[0])) { /* 20191119 */
        int mo = parse_digits(&p, 2), d = parse_digits(&p, 2);
        return mo > 0 && d > 0 && !isdigit((unsigned char)*p) ? make_ms(y, mo, d, 0, 0, 0, 0) : 0;
    }
    if (y < 0 || *p != '-')
        return 0;
    p++;
    int mo = parse_digits(&p, 2);
    if (mo < 0)
        return 0;
    int d = 1;
    if (*p == '-') {
        p++;
        d = parse_digits(&p, 2);
        if (d < 0)
            return 0;
    }
    int h = 0, mi = 0, sec = 0, off = 0;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        h = parse_digits(&p, 2);
        if (h < 0 || *p != ':')
            return 0;
        p++;
        mi = parse_digits(&p, 2);
        if (mi < 0)
            return 0;
        if (*p == ':') {
            p++;
            sec = parse_digits(&p, 2);
            if (sec < 0)
                return 0;
            if (*p == '.' || *p == ',')
                for (p++; isdigit((unsigned char)*p); p++)
                    ;
        }
        while (*p == ' ')
            p++;
        if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1;
            p++;
            int oh = parse_digits(&p, 2);
            if (oh < 0)
                return 0;
            if (*p == ':')
                p++;
            int om = isdigit((unsigned char)*p) ? parse_digits(&p, 2) : 0;
            if (om < 0)
                om = 0;
            off = sign * (oh * 60 + om);
        }
    }
    return make_ms(y, mo, d, h, mi, sec, off);
}

/* "November 19, 2019", "Nov. 19 2019", "19 November 2019" (English). */
static int64_t parse_visible_date(const char *s)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    size_t n = strlen(s);
    for (size_t i = 0; i + 3 <= n; i++) {
        if (i > 0 && isalpha((unsigned char)s[i - 1]))
            continue;
        int mo = -1;
        for (int k = 0; k < 12; k++)
            if (strncasecmp(s + i, months[k], 3) == 0)
                mo = k + 1;
        if (mo < 0)
            continue;
        size_t j = i + 3;
        while (j < n && isalpha((unsigned char)s[j]))
            j++;
        /* day before the month? */
        int d = -1, y = -1;
        size_t b = i;
        while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '.'))
            b--;
        size_t db = b;
        while (db > 0 && isdigit((unsigned char)s[db - 1]) && b - db < 2)
            db--;
        if (db < b)
            d = atoi(s + db);
        while (j < n && (s[j] == '.' || s[j] == ' ' || s[j] == ','))
            j++;
        if (d < 0 && j < n && isdigit((unsigned char)s[j])) {
            d = atoi(s + j);
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
            while (j < n && (isalpha((unsigned char)s[j]) && j < n)) /* 19th */
                j++;
            while (j < n && (s[j] == ',' || s[j] == ' '))
                j++;
        }
        if (j + 4 <= n && isdigit((unsigned char)s[j])) {
            const char *p = s + j;
            y = parse_digits(&p, 4);
        }
        if (d >= 1 && y > 0)
            return make_ms(y, mo, d, 0, 0, 0, 0);
    }
    return 0;
}

/* ---------------------------------------------------------------- JSON-LD */

static bool ld_is_article(json_object *obj)
{
    json_object *t;
    if (!json_object_object_get_ex(obj, "@type", &t))
        return false;
    size_t n = json_object_is_type(t, json_type_array) ? json_object_array_length(t) : 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_is_type(t, json_type_array) ? json_object_array_get_idx(t, i) : t;
        const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
        if (s && (strstr(s, "Article") || strstr(s, "BlogPosting") || strstr(s, "Report") ||
                  strcmp(s, "WebPage") == 0))
            return true;
    }
    return false;
}

static const char *ld_string(json_object *obj, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static void ld_names(json_object *v, nm_hbuf *out, int depth)
{
    if (!v || depth > 3)
        return;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strncmp(s, "http", 4) == 0 || !*s || (out->len && strstr(out->p, s)))
            return;
        if (out->len)
            nm_hbuf_put(out, ", ", 2);
        nm_hbuf_put(out, s, strlen(s));
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v) && i < 16; i++)
            ld_names(json_object_array_get_idx(v, i), out, depth + 1);
    } else if (json_object_is_type(v, json_type_object)) {
        json_object *name;
        if (json_object_object_get_ex(v, "name", &name))
            ld_names(name, out, depth + 1);
    }
}

static void ld_visit(meta_ctx *m, json_object *v, int depth)
{
    if (!v || depth > 6)
        return;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v) && i < 64; i++)
            ld_visit(m, json_object_array_get_idx(v, i), depth + 1);
        return;
    }
    if (!json_object_is_type(v, json_type_object))
        return;
    json_object *graph;
    if (json_object_object_get_ex(v, "@graph", &graph))
        ld_visit(m, graph, depth + 1);
    if (!ld_is_article(v))
        return;
    set_once(m, F_LD_HEADLINE, ld_string(v, "headline"));
    const char *body = ld_string(v, "articleBody");
    if (!m->ld_body && body && *body)
        m->ld_body = nm_arena_strndup(m->arena, body, strlen(body));
    date_once(&m->published[1], ld_string(v, "datePublished"));
    date_once(&m->modified[1], ld_string(v, "dateModified"));
    json_object *author, *publisher;
    if (!m->f[F_LD_AUTHOR] && json_object_object_get_ex(v, "author", &author)) {
        nm_hbuf names = {0};
        ld_names(author, &names, 0);
        if (names.len)
            set_once(m, F_LD_AUTHOR, names.p);
        nm_hbuf_free(&names);
    }
    if (json_object_object_get_ex(v, "publisher", &publisher) &&
        json_object_is_type(publisher, json_type_object))
        set_once(m, F_LD_SITE, ld_string(publisher, "name"));
}

static void ld_parse(meta_ctx *m, const char *text)
{
    json_tokener *tok = json_tokener_new_ex(24);
    if (!tok)
        return;
    json_object *root = json_tokener_parse_ex(tok, text, (int)strnlen(text, 1 << 24));
    if (root)
        ld_visit(m, root, 0);
    json_object_put(root);
    json_tokener_free(tok);
}

/* ------------------------------------------------------------------- tags */

static bool is_url(const char *s)
{
    return s && (strncmp(s, "http", 4) == 0 || strchr(s, '/'));
}

static void on_meta(meta_ctx *m, const nm_hnode *node)
{
    const char *key = nm_html_attr(node, "property");
    if (!key)
        key = nm_html_attr(node, "name");
    if (!key)
        key = nm_html_attr(node, "itemprop");
    const char *http_equiv = nm_html_attr(node, "http-equiv");
    const char *content = nm_html_attr(node, "content");
    if (!content)
        return;
    if (http_equiv && strcasecmp(http_equiv, "content-language") == 0)
        set_once(m, F_LANG, content);
    const char *itemprop = nm_html_attr(node, "itemprop");
    if (itemprop && has_word(itemprop, "datePublished"))
        date_once(&m->published[2], content);
    if (itemprop && has_word(itemprop, "dateModified"))
        date_once(&m->modified[2], content);
    if (!key)
        return;
    static const struct {
        const char *key;
        int field;
    } fields[] = {
        {"og:title", F_OG_TITLE},       {"twitter:title", F_TW_TITLE},
        {"og:site_name", F_SITE},       {"application-name", F_SITE},
        {"description", F_DESC},        {"og:description", F_DESC},
        {"twitter:description", F_DESC}, {"og:url", F_OG_URL},
        {"dc.language", F_LANG},        {"language", F_LANG},
        {"headline", F_LD_HEADLINE},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcasecmp(key, fields[i].key) == 0)
            set_once(m, fields[i].field, content);
    static const char *const authors[] = {"author", "article:author", "byl", "parsely-author",
                                          "sailthru.author", "dc.creator", "dcterms.creator",
                                          "cxenseparse:author"};
    for (size_t i = 0; i < sizeof authors / sizeof authors[0]; i++)
        if (strcasecmp(key, authors[i]) == 0 && !is_url(content)) {
            const char *c = content;
            if (strncasecmp(c, "by ", 3) == 0)
                c += 3;
            set_once(m, F_META_AUTHOR, c);
        }
    static const char *const published[] = {
        "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
        "publish-date", "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date",
        "parsely-pub-date", "article.published", "published_time", "og:article:published_time"};
    for (size_t i = 0; i < sizeof published / sizeof published[0]; i++)
        if (strcasecmp(key, published[i]) == 0)
            date_once(&m->published[strcasecmp(key, "datepublished") == 0 ? 2 : 0], content);
    static const char *const modified[] = {"article:modified_time", "og:updated_time",
                                           "datemodified", "last-modified", "dcterms.modified",
                                           "og:article:modified_time", "article.updated"};
    for (size_t i = 0; i < sizeof modified / sizeof modified[0]; i++)
        if (strcasecmp(key, modified[i]) == 0)
            date_once(&m->modified[strcasecmp(key, "datemodified") == 0 ? 2 : 0], content);
}

/* The words metadata looks for in class and id (case-insensitive,
 * anywhere), found in one pass over each string. */
enum {
    CW_COMMENT = 1 << 0,
    CW_BYLINE = 1 << 1,
    CW_AUTHOR = 1 << 2,
    CW_BIO = 1 << 3,
    CW_AVATAR = 1 << 4,
    CW_DATE = 1 << 5,
    CW_PUBLISH = 1 << 6,
    CW_TIMESTAMP = 1 << 7,
};

static unsigned words_in(const char *s)
{
    static const struct {
        const char *w;
        unsigned bit;
    } words[] = {
        {"comment", CW_COMMENT}, {"byline", CW_BYLINE}, {"author", CW_AUTHOR},
        {"bio", CW_BIO},         {"avatar", CW_AVATAR}, {"date", CW_DATE},
        {"publish", CW_PUBLISH}, {"timestamp", CW_TIMESTAMP},
    };
    unsigned found = 0;
    for (; *s; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (c != 'a' && c != 'b' && c != 'c' && c != 'd' && c != 'p' && c != 't')
            continue;
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (words[k].w[0] == c && strncasecmp(s, words[k].w, strlen(words[k].w)) == 0)
                found |= words[k].bit;
    }
    return found;
}

static unsigned class_words(const nm_hnode *node)
{
    const char *c = nm_html_attr(node, "class");
    const char *id = nm_html_attr(node, "id");
    return (c ? words_in(c) : 0) | (id ? words_in(id) : 0);
}

/* Comment sections and forms have "author" fields of their own. */
static bool in_comments_or_form(const nm_hnode *node)
{
    for (const nm_hnode *p = node; p && p->type == NM_HNODE_ELEMENT; p = p->parent) {
        nm_htag t = p->tag;
        if (t == NM_HTAG_FORM || t == NM_HTAG_FOOTER || t == NM_HTAG_ASIDE || t == NM_HTAG_NAV ||
            t == NM_HTAG_TEXTAREA || t == NM_HTAG_LABEL || (class_words(p) & CW_COMMENT))
            return true;
    }
    return false;
}

static void on_element(meta_ctx *m, const nm_hnode *node)
{
    nm_htag tag = node->tag;
    switch (tag) {
    case NM_HTAG_HTML:
        set_once(m, F_LANG, nm_html_attr(node, "lang"));
        set_once(m, F_LANG, nm_html_attr(node, "xml:lang"));
        return;
    case NM_HTAG_META:
        on_meta(m, node);
        return;
    case NM_HTAG_TITLE:
        if (!m->f[F_TITLE])
            m->f[F_TITLE] = nm_html_node_text(m->arena, node, NULL);
        return;
    case NM_HTAG_H1:
        if (!m->f[F_H1])
            m->f[F_H1] = nm_html_node_text(m->arena, node, NULL);
        return;
    case NM_HTAG_LINK: {
        const char *rel = nm_html_attr(node, "rel");
        if (rel && strcasecmp(rel, "canonical") == 0)
            set_once(m, F_CANON, nm_html_attr(node, "href"));
        return;
    }
    case NM_HTAG_SCRIPT: {
        const char *type = nm_html_attr(node, "type");
        if (type && strcasecmp(type, "application/ld+json") == 0 && node->kids.length > 0) {
            const nm_hnode *t = node->kids.data[0];
            if (t->type == NM_HNODE_TEXT)
                ld_parse(m, t->text);
        }
        return;
    }
    case NM_HTAG_TIME: {
        const char *dt = nm_html_attr(node, "datetime");
        if (dt) {
            date_once(&m->published[3], dt);
        } else if (!m->visible_date) {
            char *t = nm_html_node_text(m->arena, node, NULL);
            if (t)
                m->visible_date = parse_visible_date(t);
        }
        return;
    }
    default:
        break;
    }
    const char *itemprop = nm_html_attr(node, "itemprop");
    if (itemprop) {
        const char *v = nm_html_attr(node, "datetime");
        if (!v)
            v = nm_html_attr(node, "content");
        if (has_word(itemprop, "datePublished"))
            date_once(&m->published[2], v);
        else if (has_word(itemprop, "dateModified"))
            date_once(&m->modified[2], v);
        else if (has_word(itemprop, "author") && !m->f[F_ITEMPROP_AUTHOR]) {
            size_t n;
            char *t = nm_html_node_text(m->arena, node, &n);
            if (t && n < 120)
                m->f[F_ITEMPROP_AUTHOR] = t;
        }
    }
    const char *rel = nm_html_attr(node, "rel");
    unsigned cw = (!m->f[F_VISIBLE_BYLINE] || !m->visible_date) ? class_words(node) : 0;
    if (!m->f[F_VISIBLE_BYLINE] &&
        ((rel && strcasecmp(rel, "author") == 0) || (cw & CW_BYLINE) ||
         ((cw & CW_AUTHOR) && !(cw & (CW_BIO | CW_AVATAR)))) &&
        !in_comments_or_form(node)) {
        size_t n;
        char *t = nm_html_node_text(m->arena, node, &n);
        if (t && n >= 3 && n < 120)
            m->f[F_VISIBLE_BYLINE] = t;
    }
    if (!m->visible_date && (cw & (CW_DATE | CW_PUBLISH | CW_TIMESTAMP))) {
        size_t n;
        char *t = nm_html_node_text(m->arena, node, &n);
        if (t && n < 80)
            m->visible_date = parse_visible_date(t);
    }
}

/* ------------------------------------------------------------------ title */

static bool ieq_trim(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    return an == bn && strncasecmp(a, b, an) == 0;
}

static size_t count_words(const char *s, size_t n)
{
    size_t w = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        bool sp = s[i] == ' ';
        if (!sp && !in)
            w++;
        in = !sp;
    }
    return w;
}

char *nm_html_clean_title(nm_arena *arena, const char *title, const char *site)
{
    static const char *const seps[] = {" | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ",
                                       " :: ", " \xC2\xB7 ", " \xC2\xBB ", " // "};
    size_t start = 0, end = strlen(title);
    for (int round = 0; round < 2; round++) {
        /* suffix: last separator */
        size_t best = 0, best_len = 0;
        for (size_t k = 0; k < sizeof seps / sizeof seps[0]; k++) {
            size_t sl = strlen(seps[k]);
            for (size_t i = start; i + sl <= end; i++)
                if (memcmp(title + i, seps[k], sl) == 0 && i > best)
                    best = i, best_len = sl;
        }
        if (!best_len)
            break;
        const char *tail = title + best + best_len;
        size_t tail_n = end - best - best_len;
        size_t head_words = count_words(title + start, best - start);
        bool tail_is_site = false;
        if (site && tail_n >= 2) {
            char *t = nm_arena_strndup(arena, tail, tail_n);
            tail_is_site = ieq_trim(tail, tail_n, site) || nm_html_icontains(tail, tail_n, site) ||
                           nm_html_icontains(site, strlen(site), t);
        }
        if (tail_is_site || (count_words(tail, tail_n) <= 4 && head_words >= 4))
            end = best;
        else
            break;
    }
    /* prefix: "Site | Title", "Site: Title" */
    if (site) {
        size_t sn = strlen(site);
        if (end - start > sn + 3 && strncasecmp(title + start, site, sn) == 0) {
            size_t i = start + sn;
            bool sep = false;
            while (i < end && (title[i] == ' ' || title[i] == ':' || title[i] == '|' || title[i] == '-')) {
                sep |= title[i] != ' ';
                i++;
            }
            if (sep) /* "The Guardian view on ..." keeps its words */
                start = i;
        }
    }
    return nm_html_clean_dup(arena, title + start, end - start);
}

/* "By Ann Lee Published 10:02 AM EST Nov 19, 2019" -> "Ann Lee". */
static const char *clean_byline(nm_arena *arena, const char *b)
{
    if (!b)
        return NULL;
    if (strncasecmp(b, "by ", 3) == 0)
        b += 3;
    size_t n = strlen(b);
    static const char *const cuts[] = {" Published", " Updated", " Posted", " Last updated", " on ",
                                       " \xE2\x80\xA2", " \xC2\xB7", " @"};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *c = strstr(b, cuts[i]);
        if (c && (size_t)(c - b) < n)
            n = (size_t)(c - b);
    }
    /* a date after the name: "Ann Lee November 19, 2019" */
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (size_t i = 1; i + 4 < n; i++) {
        if (b[i - 1] != ' ')
            continue;
        bool month = false;
        for (int k = 0; k < 12 && !month; k++)
            month = strncmp(b + i, months[k], 3) == 0;
        if (!month)
            continue;
        size_t j = i + 3;
        while (j < n && (isalpha((unsigned char)b[j]) || b[j] == '.'))
            j++;
        if (j + 1 < n && b[j] == ' ' && isdigit((unsigned char)b[j + 1])) {
            n = i;
            break;
        }
    }
    while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == ',' || b[n - 1] == '|' || b[n - 1] == '-'))
        n--;
    return n ? nm_html_clean_dup(arena, b, n) : NULL;
}

/* ------------------------------------------------------------------- main */

void nm_html_meta(nm_arena *arena, const nm_htree *tree, nm_doc *doc, const char **ld_body)
{
    meta_ctx m = {.arena = arena};
    size_t cap = 256, n = 0;
    const nm_hnode **stack = nm_xmalloc(cap * sizeof *stack);
    stack[n++] = tree->root;
    while (n > 0) {
        const nm_hnode *cur = stack[--n];
        if (cur->type != NM_HNODE_ELEMENT)
            continue;
        on_element(&m, cur);
        nm_htag tag = cur->tag;
        if (tag == NM_HTAG_SCRIPT || tag == NM_HTAG_STYLE || tag == NM_HTAG_SVG)
            continue;
        const nm_hkids *kids = &cur->kids;
        if (n + kids->length > cap) {
            while (n + kids->length > cap)
                cap *= 2;
            stack = nm_xrealloc(stack, cap * sizeof *stack);
        }
        for (unsigned i = kids->length; i > 0; i--)
            stack[n++] = kids->data[i - 1];
    }
    free(stack);

    doc->site_name = m.f[F_SITE] ? m.f[F_SITE] : m.f[F_LD_SITE];
    const char *title = NULL;
    const int title_order[] = {F_OG_TITLE, F_TW_TITLE, F_LD_HEADLINE, F_H1, F_TITLE};
    for (size_t i = 0; i < 5 && !title; i++)
        title = m.f[title_order[i]];
    doc->title = title ? nm_html_clean_title(arena, title, doc->site_name) : NULL;
    const int byline_order[] = {F_LD_AUTHOR, F_META_AUTHOR, F_ITEMPROP_AUTHOR, F_VISIBLE_BYLINE};
    for (size_t i = 0; i < 4 && !doc->byline; i++)
        doc->byline = clean_byline(arena, m.f[byline_order[i]]);
    doc->description = m.f[F_DESC];
    doc->language = m.f[F_LANG];
    doc->canonical_url = m.f[F_CANON] ? m.f[F_CANON] : m.f[F_OG_URL];
    for (int i = 0; i < 4 && !doc->published_unix_ms; i++)
        doc->published_unix_ms = m.published[i];
    if (!doc->published_unix_ms)
        doc->published_unix_ms = m.visible_date;
    for (int i = 0; i < 4 && !doc->modified_unix_ms; i++)
        doc->modified_unix_ms = m.modified[i];
    *ld_body = m.ld_body;
}
