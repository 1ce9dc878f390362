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

static bool match_one(const char *tok, const word *w)
{
    size_t n = w->n;
    switch (w->mode) {
    case EXACT:
        return strcmp(tok, w->w) == 0;
    case PREFIX:
        return strncmp(tok, w->w, n) == 0;
    default:
        return strstr(tok, w->w) != NULL;
    }
}

static bool match_any(const tokens *t, const word *words, size_t nwords)
{
    char pair[2 * TOKEN_LEN];
    for (int i = 0; i < t->n; i++) {
        size_t tlen = strlen(t->t[i]);
        for (size_t k = 0; k < nwords; k++)
            if (match_one(t->t[i], &words[k]))
                return true;
        if (i + 1 < t->n) {
            strcpy(pair, t->t[i]);
            strcat(pair, t->t[i + 1]);
            for (size_t k = 0; k < nwords; k++)
                if (words[k].mode != EXACT && words[k].n > tlen &&
                    match_one(pair, &words[k]))
                    return true;
        }
    }
    return false;
}

/* What one class or id string says: NM_HCLASS_EMBED, else STRONG, else
 * WEAK; and POS. */
static unsigned words_flags(const char *s)
{
    unsigned fl = 0;
    tokens t = {.n = 0};
    tokenize(s, &t);
    if (match_any(&t, k_embed, sizeof k_embed / sizeof k_embed[0]))
        fl |= NM_HCLASS_EMBED;
    else if (match_any(&t, k_strong, sizeof k_strong / sizeof k_strong[0]))
        fl |= NM_HCLASS_STRONG;
    else if (match_any(&t, k_weak, sizeof k_weak / sizeof k_weak[0]))
        fl |= NM_HCLASS_WEAK;
    if (match_any(&t, k_pos, sizeof k_pos / sizeof k_pos[0]))
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
