/*
 * nm_html_prep: what happens to the bytes before the parser sees them.
 *
 * Charsets. A page with a UTF-16 byte-order mark, or one that declares a
 *    legacy charset (windows-125x, iso-8859-x with latin-1 read as
 *    windows-1252 as browsers do, koi8, GBK, Big5, Shift_JIS, EUC) and is
 *    not valid UTF-8, is converted with glibc's iconv; undecodable bytes
 *    become U+FFFD. Every other case is left to nm_utf8_repair.
 *
 * (Nesting and attribute bombs are bounded by the tree builder itself,
 * nm_html_tree.c.)
 */
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
