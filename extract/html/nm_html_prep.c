/*
 * nm_html_prep: what happens to the bytes before the parser sees them.
 *
 * 1. Charsets. A page with a UTF-16 byte-order mark, or one that declares a
 *    legacy charset (windows-125x, iso-8859-x with latin-1 read as
 *    windows-1252 as browsers do, koi8, GBK, Big5, Shift_JIS, EUC) and is
 *    not valid UTF-8, is converted with glibc's iconv; undecodable bytes
 *    become U+FFFD. Every other case is left to nm_utf8_repair.
 *
 * 2. The nesting guard. HTML parsers look through the stack of open
 *    elements for many tags (libxml2 for an end tag that does not match the
 *    current element; gumbo, the parser before it, for most start tags), so N
 *    nested tags can cost O(N^2).
 *    A linear pre-scan counts nesting the way a sloppy page can grow it (start
 *    tags minus end tags, ignoring void elements, self-closing tags and the
 *    elements HTML closes implicitly such as <p> and <li>) and blanks out, with
 *    spaces, the start and end tags past NM_HTML_MAX_NESTING. The text they
 *    held stays. The scan is not a parser: it only has to find tag boundaries
 *    well enough to count, and errs on the side of counting too deep.
 *
 * 3. The attribute guard. The parser checks each attribute of a tag against
 *    the ones before it (a duplicate is dropped), so a tag with N attributes
 *    costs O(N^2): one <div> with 50,000 attributes took 45 s. The same scan
 *    blanks the attributes of a start tag past NM_HTML_MAX_ATTRS.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"
#include "nm_utf8.h"

/* ---------------------------------------------------------------- charset */

/* Finds charset=NAME in the first bytes; copies NAME lower-cased. */
static bool declared_charset(const char *html, size_t len, char *name, size_t cap)
{
    size_t lim = len < 4096 ? len : 4096;
    for (size_t i = 0; i + 8 <= lim; i++) {
        if (strncasecmp(html + i, "charset=", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < lim && (html[j] == '"' || html[j] == '\'' || html[j] == ' '))
            j++;
        size_t k = 0;
        while (j < lim && k + 1 < cap) {
            char c = html[j];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                break;
            name[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            j++;
        }
        name[k] = '\0';
        return k > 0;
    }
    return false;
}

/* iconv name for a declared charset label (WHATWG-style aliases; latin-1
 * and ASCII read as windows-1252, as browsers do), or NULL. */
static const char *iconv_name(const char *cs)
{
    static const struct {
        const char *label, *iconv;
    } map[] = {
        {"windows-1252", "WINDOWS-1252"}, {"cp1252", "WINDOWS-1252"},  {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"},    {"latin1", "WINDOWS-1252"},  {"latin-1", "WINDOWS-1252"},
        {"us-ascii", "WINDOWS-1252"},     {"ascii", "WINDOWS-1252"},   {"iso-8859-15", "ISO-8859-15"},
        {"iso8859-15", "ISO-8859-15"},    {"latin9", "ISO-8859-15"},   {"windows-1250", "WINDOWS-1250"},
        {"windows-1251", "WINDOWS-1251"}, {"cp1251", "WINDOWS-1251"},  {"windows-1253", "WINDOWS-1253"},
        {"windows-1254", "WINDOWS-1254"}, {"iso-8859-9", "WINDOWS-1254"}, {"windows-1255", "WINDOWS-1255"},
        {"windows-1256", "WINDOWS-1256"}, {"windows-1257", "WINDOWS-1257"}, {"windows-1258", "WINDOWS-1258"},
        {"iso-8859-2", "ISO-8859-2"},     {"iso-8859-5", "ISO-8859-5"}, {"iso-8859-7", "ISO-8859-7"},
        {"koi8-r", "KOI8-R"},             {"koi8-u", "KOI8-U"},         {"gbk", "GB18030"},
        {"gb2312", "GB18030"},            {"gb18030", "GB18030"},       {"big5", "BIG5-HKSCS"},
        {"shift_jis", "CP932"},           {"shift-jis", "CP932"},       {"sjis", "CP932"},
        {"euc-jp", "EUC-JP"},             {"euc-kr", "CP949"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(cs, map[i].label) == 0)
            return map[i].iconv;
    return NULL;
}

/* Converts with iconv; an undecodable unit becomes U+FFFD. NULL if iconv
 * does not know the charset. */
static char *convert(const char *from, size_t unit, const char *html, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return NULL;
    /* No unit of these charsets (1-byte, 2-byte, UTF-16 code unit) becomes
     * more than 3 bytes of UTF-8 per input byte, U+FFFD included. */
    size_t cap = len * 3 + 4;
    char *out = nm_xmalloc(cap);
    char *in = (char *)html, *o = out;
    size_t in_left = len, out_left = cap - 1;
    while (in_left > 0) {
        if (iconv(cd, &in, &in_left, &o, &out_left) != (size_t)-1)
            break;
        if (errno != EILSEQ && errno != EINVAL)
            break; /* E2BIG cannot happen with 3x room */
        memcpy(o, "\xEF\xBF\xBD", 3);
        o += 3;
        out_left -= 3;
        size_t skip = unit < in_left ? unit : in_left;
        in += skip;
        in_left -= skip;
    }
    iconv_close(cd);
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

char *nm_html_prep_charset(const char *html, size_t len, size_t *out_len)
{
    if (len >= 2 && (unsigned char)html[0] == 0xFF && (unsigned char)html[1] == 0xFE)
        return convert("UTF-16LE", 2, html + 2, len - 2, out_len);
    if (len >= 2 && (unsigned char)html[0] == 0xFE && (unsigned char)html[1] == 0xFF)
        return convert("UTF-16BE", 2, html + 2, len - 2, out_len);
    char cs[40];
    if (!declared_charset(html, len, cs, sizeof cs))
        return NULL;
    const char *from = iconv_name(cs);
    if (!from || nm_utf8_valid(html, len, NULL))
        return NULL;
    return convert(from, 1, html, len, out_len);
}

/* ---------------------------------------------------------------- nesting */

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == ':' || c == '_';
}

typedef struct tagname {
    const char *s;
    size_t n;
} tagname;
#define N(x) {x, sizeof x - 1}

static bool in_names(const tagname *names, size_t count, const char *s, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (names[i].n == n && strncasecmp(names[i].s, s, n) == 0)
            return true;
    return false;
}

/* Elements that never add nesting depth in a way a page can accumulate. */
static bool uncounted(const char *s, size_t n)
{
    static const tagname names[] = {
        N("area"), N("base"), N("br"), N("col"), N("embed"), N("hr"), N("img"), N("input"),
        N("link"), N("meta"), N("param"), N("source"), N("track"), N("wbr"), N("keygen"), N("p"),
        N("li"), N("dt"), N("dd"), N("option"), N("optgroup"), N("tr"), N("td"), N("th"),
        N("thead"), N("tbody"), N("tfoot"), N("rb"), N("rt"), N("rp"), N("rtc"), N("colgroup"),
        N("caption"), N("html"), N("head"), N("body"), N("frame"), N("basefont"), N("bgsound"),
        N("image"), N("menuitem"),
    };
    return n <= 8 && in_names(names, sizeof names / sizeof names[0], s, n);
}

/* Elements whose content is raw text up to their end tag. */
static bool raw_text(const char *s, size_t n)
{
    static const tagname names[] = {N("script"), N("style"), N("textarea"), N("title"), N("xmp"),
                                 N("noembed"), N("noframes"), N("iframe"), N("plaintext")};
    return n >= 3 && n <= 9 && in_names(names, sizeof names / sizeof names[0], s, n);
}

/* Position after the '>' closing a tag that starts at i, quote-aware. */
static size_t tag_end(const char *s, size_t len, size_t i, bool *self_closing)
{
    *self_closing = false;
    while (i < len && s[i] != '>') {
        if (s[i] == '"' || s[i] == '\'') {
            const char *q = memchr(s + i + 1, s[i], len - i - 1);
            if (!q)
                return len;
            i = (size_t)(q - s) + 1;
            continue;
        }
        i++;
    }
    if (i >= len)
        return len;
    *self_closing = i > 0 && s[i - 1] == '/';
    return i + 1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Where the attributes of the start tag html[ne..end) past
 * NM_HTML_MAX_ATTRS begin, or 0 when it has no more than that. The scan
 * follows the attribute syntax loosely (name, optional = value, quoted or
 * not); it only has to count. */
static size_t attrs_cut(const char *s, size_t ne, size_t end)
{
    size_t i = ne, count = 0;
    while (i < end) {
        while (i < end && (is_space(s[i]) || s[i] == '/'))
            i++;
        if (i >= end || s[i] == '>')
            return 0;
        if (count++ == NM_HTML_MAX_ATTRS)
            return i;
        while (i < end && !is_space(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/')
            i++;
        while (i < end && is_space(s[i]))
            i++;
        if (i >= end || s[i] != '=')
            continue;
        i++;
        while (i < end && is_space(s[i]))
            i++;
        if (i < end && (s[i] == '"' || s[i] == '\'')) {
            const char *q = memchr(s + i + 1, s[i], end - i - 1);
            i = q ? (size_t)(q - s) + 1 : end;
        } else {
            while (i < end && !is_space(s[i]) && s[i] != '>')
                i++;
        }
    }
    return 0;
}

/* First occurrence of "</name" (case-insensitive) at or after i, or len. */
static size_t find_end_tag(const char *s, size_t len, size_t i, const char *name, size_t n)
{
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            return len;
        i = (size_t)(lt - s);
        if (i + 2 + n <= len && s[i + 1] == '/' && strncasecmp(s + i + 2, name, n) == 0)
            return i;
        i++;
    }
    return len;
}

char *nm_html_prep_nesting(const char *html, size_t len, size_t *out_len)
{
    char *out = NULL; /* copy made on the first blanked tag */
    size_t depth = 0, over = 0, i = 0;
    while (i < len) {
        const char *lt = memchr(html + i, '<', len - i);
        if (!lt)
            break;
        i = (size_t)(lt - html);
        size_t start = i;
        if (i + 4 <= len && memcmp(html + i, "<!--", 4) == 0) {
            const char *e = memmem(html + i + 4, len - i - 4, "-->", 3);
            i = e ? (size_t)(e - html) + 3 : len;
            continue;
        }
        bool end_tag = i + 1 < len && html[i + 1] == '/';
        size_t nb = i + 1 + (end_tag ? 1 : 0), ne = nb;
        if (ne >= len || !((html[ne] >= 'a' && html[ne] <= 'z') || (html[ne] >= 'A' && html[ne] <= 'Z'))) {
            i++; /* "<!doctype", "<?xml", "< 3": not a tag we count */
            continue;
        }
        while (ne < len && is_name_char((unsigned char)html[ne]))
            ne++;
        bool self_closing;
        i = tag_end(html, len, ne, &self_closing);
        size_t cut = !end_tag && i - ne > 2 * NM_HTML_MAX_ATTRS ? attrs_cut(html, ne, i) : 0;
        if (cut) {
            if (!out) {
                out = nm_xmalloc(len + 1);
                memcpy(out, html, len);
                out[len] = '\0';
            }
            size_t stop = i; /* keep the closing '>' and a self-closing '/' */
            if (stop > cut && html[stop - 1] == '>')
                stop--;
            if (stop > cut && html[stop - 1] == '/')
                stop--;
            memset(out + cut, ' ', stop - cut);
        }
        if (!end_tag && raw_text(html + nb, ne - nb)) {
            i = find_end_tag(html, len, i, html + nb, ne - nb);
            continue;
        }
        if (uncounted(html + nb, ne - nb) || (!end_tag && self_closing))
            continue;
        bool blank = false;
        if (!end_tag) {
            if (depth >= NM_HTML_MAX_NESTING)
                blank = true, over++;
            else
                depth++;
        } else if (over > 0) {
            blank = true, over--;
        } else if (depth > 0) {
            depth--;
        }
        if (blank) {
            if (!out) {
                out = nm_xmalloc(len + 1);
                memcpy(out, html, len);
                out[len] = '\0';
            }
            memset(out + start, ' ', i - start);
        }
    }
    if (out)
        *out_len = len;
    return out;
}
