/*
 * nm_html_class: what an element's class, id and role say about it.
 *
 * class/id strings are cut into lower-case tokens at every non-alphanumeric
 * character and at camelCase boundaries ("PageBuilder-pageRow" -> page,
 * builder, page, row), so that "pager" does not fire inside "pageRow" and
 * "ad" only fires as a word of its own ("Page-ad-margins", not "header").
 * Each word is matched against tokens and against each pair of adjacent
 * tokens glued together ("most-read" -> "mostread"), either exactly, as a
 * prefix ("comments" for "comment") or, for long unambiguous words, anywhere
 * ("postfooter").
 *
 * Embedded posts (a tweet's blockquote) are content; the caller keeps the
 * "social-embed" wrappers around them too.
 *
 * Strong words (comment, share, related, cookie, ...) name boilerplate that
 * is boilerplate wherever it sits; weak words (sidebar, widget, ...) are
 * also used by themes for wrappers around the article, so the caller only
 * trusts them on elements that do not hold most of the page's text.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_html_internal.h"

enum { EXACT, PREFIX, ANYWHERE };

typedef struct word {
    const char *w;
    size_t n;
    int mode;
} word;
#define W(text, mode) {text, sizeof text - 1, mode}

static const word k_strong[] = {
    W("comment", ANYWHERE),   W("disqus", ANYWHERE),      W("cookie", ANYWHERE),
    W("consent", ANYWHERE),   W("gdpr", ANYWHERE),        W("newsletter", ANYWHERE),
    W("subscribe", PREFIX),   W("subscription", PREFIX),  W("signup", PREFIX),
    W("share", PREFIX),       W("sharing", PREFIX),       W("social", PREFIX),
    W("related", ANYWHERE),   W("recommend", ANYWHERE),   W("outbrain", ANYWHERE),
    W("taboola", ANYWHERE),   W("promo", PREFIX),         W("sponsor", ANYWHERE),
    W("advert", ANYWHERE),    W("ad", EXACT),             W("ads", EXACT),
    W("adslot", PREFIX),      W("adunit", PREFIX),        W("adcontainer", PREFIX),
    W("adwrapper", PREFIX),   W("gpt", EXACT),            W("dfp", EXACT),
    W("breadcrumb", ANYWHERE), W("popup", PREFIX),        W("modal", PREFIX),
    W("footer", ANYWHERE),    W("nav", EXACT),            W("navbar", PREFIX),
    W("navigation", PREFIX),  W("menu", PREFIX),          W("byline", PREFIX),
    W("caption", PREFIX),     W("credit", PREFIX),        W("mostread", PREFIX),
    W("mostpopular", PREFIX), W("trending", PREFIX),      W("readmore", PREFIX),
    W("morefrom", PREFIX),    W("authorbio", PREFIX),     W("bio", EXACT),
    W("print", EXACT),        W("noprint", EXACT),        W("hide", EXACT),
    W("skip", PREFIX),        W("tags", EXACT),           W("tag", EXACT),
    W("rss", EXACT),          W("paywall", EXACT),        W("login", PREFIX),
    W("popover", PREFIX),     W("tooltip", PREFIX),       W("hovercard", PREFIX),
    W("rollover", PREFIX),
};

static const word k_weak[] = {
    W("sidebar", ANYWHERE),  W("widget", PREFIX),   W("banner", PREFIX),    W("masthead", PREFIX),
    W("pager", EXACT),       W("pagination", PREFIX), W("toolbar", PREFIX), W("teaser", PREFIX),
    W("rating", PREFIX),     W("follow", PREFIX),   W("timestamp", PREFIX), W("dateline", PREFIX),
    W("aside", EXACT),       W("extra", EXACT),     W("supplemental", PREFIX), W("sticky", EXACT),
    W("header", EXACT),      W("meta", EXACT),      W("author", EXACT),     W("date", EXACT),
};

/* Embedded posts (tweets, Instagram) quoted by the article are content even
 * inside a "social" wrapper. */
static const word k_embed[] = {
    W("tweet", ANYWHERE), W("instagram", PREFIX), W("tiktok", PREFIX),
};

static const word k_pos[] = {
    W("article", PREFIX), W("content", PREFIX), W("story", PREFIX),   W("body", PREFIX),
    W("main", EXACT),     W("post", EXACT),     W("entry", PREFIX),   W("text", EXACT),
    W("blog", PREFIX),    W("prose", EXACT),    W("richtext", PREFIX), W("articlebody", PREFIX),
};

#define MAX_TOKENS 48
#define TOKEN_LEN 32

typedef struct tokens {
    char t[MAX_TOKENS][TOKEN_LEN];
    int n;
} tokens;

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void tokenize(const char *s, tokens *out)
{
    const char *p = s;
    while (*p && out->n < MAX_TOKENS) {
        while (*p && !is_alnum(*p))
            p++;
        if (!*p)
            break;
        int k = 0;
        char *dst = out->t[out->n];
        const char *start = p;
        while (*p && is_alnum(*p)) {
            /* camelCase boundary: lower followed by upper */
            if (p > start && (p[-1] >= 'a' && p[-1] <= 'z') && (*p >= 'A' && *p <= 'Z'))
                break;
            if (k + 1 < TOKEN_LEN)
                dst[k++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            p++;
        }
        dst[k] = '\0';
        out->n++;
    }
}

/* Every word of the four lists, indexed by its first character: all of
 * them for a match at the start of a token, the ANYWHERE ones for a match
 * further in. Built once; a token is then matched in a few comparisons
 * instead of one per word (this was a third of HTML extraction). */
enum { CAT_EMBED = 1, CAT_STRONG = 2, CAT_WEAK = 4, CAT_POS = 8 };
#define MAX_WORDS 128
typedef struct indexed {
    const word *w;
    unsigned cat;
} indexed;
static struct {
    indexed at_start[36][MAX_WORDS / 4], anywhere[36][MAX_WORDS / 4];
    unsigned n_start[36], n_anywhere[36];
} g_index;
static pthread_once_t g_index_once = PTHREAD_ONCE_INIT;

static int char_slot(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '0' && c <= '9')
        return 26 + c - '0';
    return -1;
}

static void index_list(const word *words, size_t n, unsigned cat)
{
    for (size_t i = 0; i < n; i++) {
        int c = char_slot(words[i].w[0]);
        if (g_index.n_start[c] == MAX_WORDS / 4)
            abort(); /* a bucket is full: raise MAX_WORDS */
        g_index.at_start[c][g_index.n_start[c]++] = (indexed){&words[i], cat};
        if (words[i].mode == ANYWHERE)
            g_index.anywhere[c][g_index.n_anywhere[c]++] = (indexed){&words[i], cat};
    }
}

static void index_init(void)
{
    index_list(k_embed, sizeof k_embed / sizeof k_embed[0], CAT_EMBED);
    index_list(k_strong, sizeof k_strong / sizeof k_strong[0], CAT_STRONG);
    index_list(k_weak, sizeof k_weak / sizeof k_weak[0], CAT_WEAK);
    index_list(k_pos, sizeof k_pos / sizeof k_pos[0], CAT_POS);
}

/* The categories of the words found in t[0..len). For a pair of tokens
 * glued together (first_len = length of the first), only words that are
 * not EXACT and longer than the first token count. */
static unsigned match_cats(const char *t, size_t len, size_t first_len)
{
    unsigned cats = 0;
    for (size_t i = 0; i < len; i++) {
        int c = char_slot(t[i]);
        if (c < 0)
            continue;
        const indexed *list = i == 0 ? g_index.at_start[c] : g_index.anywhere[c];
        unsigned n = i == 0 ? g_index.n_start[c] : g_index.n_anywhere[c];
        for (unsigned k = 0; k < n; k++) {
            const word *w = list[k].w;
            if (i + w->n > len || memcmp(t + i, w->w, w->n) != 0)
                continue;
            if (w->mode == EXACT && (first_len || len != w->n))
                continue;
            if (first_len && w->n <= first_len)
                continue;
            cats |= list[k].cat;
        }
    }
    return cats;
}

/* What one class or id string says: NM_HCLASS_EMBED, else STRONG, else
 * WEAK; and POS. */
static unsigned words_flags(const char *s)
{
    pthread_once(&g_index_once, index_init);
    tokens t; /* not zeroed: 1.5 KB, and tokenize writes what it counts */
    t.n = 0;
    tokenize(s, &t);
    unsigned cats = 0;
    char pair[2 * TOKEN_LEN];
    for (int i = 0; i < t.n; i++) {
        size_t tlen = strlen(t.t[i]);
        cats |= match_cats(t.t[i], tlen, 0);
        if (i + 1 < t.n) {
            size_t nlen = strlen(t.t[i + 1]);
            memcpy(pair, t.t[i], tlen);
            memcpy(pair + tlen, t.t[i + 1], nlen);
            cats |= match_cats(pair, tlen + nlen, tlen);
        }
    }
    unsigned fl = 0;
    if (cats & CAT_EMBED)
        fl |= NM_HCLASS_EMBED;
    else if (cats & CAT_STRONG)
        fl |= NM_HCLASS_STRONG;
    else if (cats & CAT_WEAK)
        fl |= NM_HCLASS_WEAK;
    if (cats & CAT_POS)
        fl |= NM_HCLASS_POS;
    return fl;
}

/* words_flags through the cache: a page repeats its class names on many
 * elements, and matching a string against every word costs ~100 times more
 * than hashing it. */
static unsigned cached_words_flags(nm_hclass_cache *cache, const char *s)
{
    if (!cache)
        return words_flags(s);
    uint64_t h = 14695981039346656037ull;
    size_t n = 0;
    for (; s[n]; n++)
        h = (h ^ (unsigned char)s[n]) * 1099511628211ull;
    struct nm_hclass_slot *slot = &cache->slot[h % NM_HCLASS_CACHE];
    if (slot->used && slot->hash == h && slot->len == n)
        return slot->bits;
    unsigned bits = words_flags(s);
    *slot = (struct nm_hclass_slot){.hash = h, .len = n, .bits = (uint8_t)bits, .used = true};
    return bits;
}

unsigned nm_html_class_flags(const nm_hnode *g, nm_hclass_cache *cache)
{
    unsigned fl = 0;
    const char *attrs[] = {nm_html_attr(g, "class"), nm_html_attr(g, "id")};
    for (int k = 0; k < 2; k++)
        if (attrs[k] && *attrs[k])
            fl |= cached_words_flags(cache, attrs[k]);
    if (fl & NM_HCLASS_EMBED)
        fl &= ~(NM_HCLASS_STRONG | NM_HCLASS_WEAK);
    const char *role = nm_html_attr(g, "role");
    if (role && (strcasecmp(role, "navigation") == 0 || strcasecmp(role, "complementary") == 0 ||
                 strcasecmp(role, "contentinfo") == 0 || strcasecmp(role, "banner") == 0 ||
                 strcasecmp(role, "dialog") == 0 || strcasecmp(role, "menu") == 0 ||
                 strcasecmp(role, "alert") == 0))
        fl |= NM_HCLASS_STRONG;
    const char *itemprop = nm_html_attr(g, "itemprop");
    if (itemprop && (strcasecmp(itemprop, "articleBody") == 0 || strcasecmp(itemprop, "text") == 0))
        fl |= NM_HCLASS_POS | NM_HCLASS_BODY;
    return fl;
}
