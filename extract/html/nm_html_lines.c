/*
 * nm_html_lines: judging a block by its text alone, and blocks from plain
 * text. Short, fixed phrases that are page furniture in any article
 * ("Advertisement", "Last updated at 08:43 GMT"), news-agency credits,
 * promotions that close a story, and whether a block ends like a sentence.
 * Pure functions over (text, length); matching is ASCII case-insensitive.
 */
#include <string.h>
#include <strings.h>

#include "nm_html_internal.h"

/* Ends like a sentence: . ! ? possibly followed by closing quotes/brackets. */
bool nm_html_line_ends_sentence(const char *s, size_t n)
{
    while (n > 0) {
        unsigned char c = (unsigned char)s[n - 1];
        if (c == '"' || c == '\'' || c == ')' || c == ']')
            n--;
        else if (n >= 3 && (unsigned char)s[n - 3] == 0xE2 && (unsigned char)s[n - 2] == 0x80 &&
                 (c == 0x9D || c == 0x99)) /* ” ’ */
            n -= 3;
        else
            break;
    }
    return n > 0 && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == '?');
}

/* Whole blocks that are page furniture in any article ("Advertisement"). */
bool nm_html_line_furniture(const char *s, size_t n)
{
    static const char *const lines[] = {
        "advertisement", "advert", "ad", "ads", "sponsored", "sponsored content", "continue reading",
        "continue reading below", "story continues below", "story continues below advertisement",
        "article continues below advertisement", "read more", "read more below", "share",
        "share this", "share this article", "share this story", "comments", "comment",
        "this slideshow requires javascript", "like this story share it with a friend",
        "skip to content", "skip advertisement", "related", "related articles", "related stories",
        "recommended", "loading", "image", "photo", "close", "click to enlarge",
    };
    if (n > 48)
        return false;
    char norm[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof norm; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            norm[k++] = c;
        else if (k && norm[k - 1] != ' ')
            norm[k++] = ' ';
    }
    while (k && norm[k - 1] == ' ')
        k--;
    norm[k] = '\0';
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (strcmp(norm, lines[i]) == 0)
            return true;
    return false;
}

bool nm_html_line_promo(const char *s, size_t n)
{
    static const char *const phrases[] = {"subscribe to", "sign up for", "sign up to", "newsletters",
                                          "your inbox", "have a tip", "may be reached at"};
    static const char *const networks[] = {"twitter", "facebook", "instagram", "youtube"};
    if (n > 200)
        return false;
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (nm_html_icontains(s, n, phrases[i]))
            return true;
    if (!nm_html_icontains(s, n, "follow"))
        return false;
    for (size_t i = 0; i < sizeof networks / sizeof networks[0]; i++)
        if (nm_html_icontains(s, n, networks[i]))
            return true;
    return false;
}

/* "Last updated at 08:43 GMT", "Updated at 1:23 p.m.": page furniture. */
bool nm_html_line_dateline(const char *s, size_t n)
{
    static const char *const starts[] = {"last updated", "updated", "published", "posted", "first published"};
    if (n > 60 || !strpbrk(s, "0123456789"))
        return false;
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (strncasecmp(s, starts[i], strlen(starts[i])) == 0)
            return true;
    return false;
}

/* News-agency credits after the story: "(Reporting by ...; Editing by ...)",
 * "X and Y contributed to this report." */
bool nm_html_line_credit(const char *s, size_t n)
{
    if (n > 400)
        return false;
    if (*s == '(')
        s++, n--;
    static const char *const starts[] = {"Reporting by ", "Additional reporting by ", "Editing by ",
                                         "Writing by ", "Compiled by ", "Reported by "};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (n > strlen(starts[i]) && strncasecmp(s, starts[i], strlen(starts[i])) == 0)
            return true;
    static const char tail[] = "contributed to this report.";
    size_t tl = sizeof tail - 1;
    return n > tl && strncmp(s + n - tl, tail, tl) == 0;
}

void nm_html_blocks_from_text(nm_arena *arena, const char *text, nm_doc *doc)
{
    size_t n = 0, cap = 0;
    nm_block *blocks = NULL;
    nm_hbuf buf = {0};
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        buf.len = 0;
        nm_hbuf_put_collapsed(&buf, p, len);
        nm_hbuf_trim_end(&buf);
        if (buf.len > 0) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                blocks = nm_arena_grow(arena, blocks, cap * sizeof *blocks, ncap * sizeof *blocks);
                cap = ncap;
            }
            blocks[n].kind = NM_BLOCK_PARAGRAPH;
            blocks[n].text = nm_arena_strndup(arena, buf.p, buf.len);
            blocks[n].len = buf.len;
            n++;
        }
        p += len + (nl ? 1 : 0);
    }
    nm_hbuf_free(&buf);
    doc->blocks = blocks;
    doc->n_blocks = n;
}
