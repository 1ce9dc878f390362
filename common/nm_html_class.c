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
    int mode;
} word;

static const word k_strong[] = {
    {"comment", ANYWHERE},   {"disqus", ANYWHERE},      {"cookie", ANYWHERE},
    {"consent", ANYWHERE},   {"gdpr", ANYWHERE},        {"newsletter", ANYWHERE},
    {"subscribe", PREFIX},   {"subscription", PREFIX},  {"signup", PREFIX},
    {"share", PREFIX},       {"sharing", PREFIX},       {"social", PREFIX},
    {"related", ANYWHERE},   {"recommend", ANYWHERE},   {"outbrain", ANYWHERE},
    {"taboola", ANYWHERE},   {"promo", PREFIX},         {"sponsor", ANYWHERE},
    {"advert", ANYWHERE},    {"ad", EXACT},             {"ads", EXACT},
    {"adslot", PREFIX},      {"adunit", PREFIX},        {"adcontainer", PREFIX},
    {"adwrapper", PREFIX},   {"gpt", EXACT},            {"dfp", EXACT},
    {"breadcrumb", ANYWHERE}, {"popup", PREFIX},        {"modal", PREFIX},
    {"footer", ANYWHERE},    {"nav", EXACT},            {"navbar", PREFIX},
    {"navigation", PREFIX},  {"menu", PREFIX},          {"byline", PREFIX},
    {"caption", PREFIX},     {"credit", PREFIX},        {"mostread", PREFIX},
    {"mostpopular", PREFIX}, {"trending", PREFIX},      {"readmore", PREFIX},
    {"morefrom", PREFIX},    {"authorbio", PREFIX},     {"bio", EXACT},
    {"print", EXACT},        {"noprint", EXACT},        {"hide", EXACT},
    {"skip", PREFIX},        {"tags", EXACT},           {"tag", EXACT},
    {"rss", EXACT},          {"paywall", EXACT},        {"login", PREFIX},
    {"popover", PREFIX},     {"tooltip", PREFIX},       {"hovercard", PREFIX},
    {"rollover", PREFIX},
};

static const word k_weak[] = {
    {"sidebar", ANYWHERE},  {"widget", PREFIX},   {"banner", PREFIX},    {"masthead", PREFIX},
    {"pager", EXACT},       {"pagination", PREFIX}, {"toolbar", PREFIX}, {"teaser", PREFIX},
    {"rating", PREFIX},     {"follow", PREFIX},   {"timestamp", PREFIX}, {"dateline", PREFIX},
    {"aside", EXACT},       {"extra", EXACT},     {"supplemental", PREFIX}, {"sticky", EXACT},
    {"header", EXACT},      {"meta", EXACT},      {"author", EXACT},     {"date", EXACT},
};

/* Embedded posts (tweets, Instagram) quoted by the article are content even
 * inside a "social" wrapper. */
static const word k_embed[] = {
    {"tweet", ANYWHERE}, {"instagram", PREFIX}, {"tiktok", PREFIX},
};

static const word k_pos[] = {
    {"article", PREFIX}, {"content", PREFIX}, {"story", PREFIX},   {"body", PREFIX},
    {"main", EXACT},     {"post", EXACT},     {"entry", PREFIX},   {"text", EXACT},
    {"blog", PREFIX},    {"prose", EXACT},    {"richtext", PREFIX}, {"articlebody", PREFIX},
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
    size_t n = strlen(w->w);
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
        for (size_t k = 0; k < nwords; k++)
            if (match_one(t->t[i], &words[k]))
                return true;
        if (i + 1 < t->n) {
            strcpy(pair, t->t[i]);
            strcat(pair, t->t[i + 1]);
            for (size_t k = 0; k < nwords; k++)
                if (words[k].mode != EXACT && strlen(words[k].w) > strlen(t->t[i]) &&
                    match_one(pair, &words[k]))
                    return true;
        }
    }
    return false;
}

unsigned nm_html_class_flags(const GumboNode *g)
{
    unsigned fl = 0;
    const char *attrs[] = {nm_html_attr(g, "class"), nm_html_attr(g, "id")};
    for (int k = 0; k < 2; k++) {
        if (!attrs[k] || !*attrs[k])
            continue;
        tokens t = {.n = 0};
        tokenize(attrs[k], &t);
        if (match_any(&t, k_embed, sizeof k_embed / sizeof k_embed[0]))
            fl |= NM_HCLASS_EMBED;
        else if (match_any(&t, k_strong, sizeof k_strong / sizeof k_strong[0]))
            fl |= NM_HCLASS_STRONG;
        else if (match_any(&t, k_weak, sizeof k_weak / sizeof k_weak[0]))
            fl |= NM_HCLASS_WEAK;
        if (match_any(&t, k_pos, sizeof k_pos / sizeof k_pos[0]))
            fl |= NM_HCLASS_POS;
    }
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
