/*
 * nm_text: plain text -> nm_doc (nm_text_parse, declared in nm_doc.h).
 *
 * Line-oriented, one pass, linear time:
 *   - "\r\n" and "\r" end lines like "\n"; other control characters and NUL
 *     become spaces; runs of spaces (and no-break spaces) collapse to one.
 *   - the first non-empty line is the title;
 *   - blank lines (empty or only spaces) separate blocks;
 *   - inside a block, a line starting with a list marker ("1.", "2)", "-",
 *     "*", "•", "–") starts a list item; other lines continue the current
 *     paragraph or item (soft wrap: joined with one space);
 *   - a block that is one short title-like line (no sentence punctuation at
 *     the end, starts with an upper-case letter or digit, <= 12 words) with
 *     a paragraph after it is a heading (level 2);
 *   - consecutive list items (also across blank lines) form one list.
 */
#include <stdint.h>
#include <string.h>

#include "nm_doc.h"

typedef struct line {
    size_t start, end; /* raw bytes of the line, without the newline */
} line;

typedef struct builder {
    nm_arena *arena;
    nm_block *blocks;
    size_t n, cap;
    char *buf; /* text of the block being built */
    size_t len, bufcap;
} builder;

static int is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == 0 || (c < 0x20 && c != '\n') ||
           c == 0x7F;
}

/* Length of the whitespace at s[i] (ASCII blanks, controls, U+00A0, U+2000-200B,
 * U+202F, U+3000, U+FEFF), 0 if none. */
static size_t space_len(const unsigned char *s, size_t i, size_t end)
{
    if (is_space_byte(s[i]) && s[i] != '\r')
        return 1;
    if (s[i] == 0xC2 && i + 1 < end && s[i + 1] == 0xA0)
        return 2;
    if (s[i] == 0xE2 && i + 2 < end && s[i + 1] == 0x80 &&
        ((s[i + 2] >= 0x80 && s[i + 2] <= 0x8B) || s[i + 2] == 0xAF))
        return 3;
    if (s[i] == 0xE3 && i + 2 < end && s[i + 1] == 0x80 && s[i + 2] == 0x80)
        return 3;
    if (s[i] == 0xEF && i + 2 < end && s[i + 1] == 0xBB && s[i + 2] == 0xBF)
        return 3;
    return 0;
}

static void buf_reserve(builder *b, size_t more)
{
    if (b->len + more + 1 <= b->bufcap)
        return;
    size_t cap = b->bufcap ? b->bufcap * 2 : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->buf = nm_arena_grow(b->arena, b->buf, b->len, cap);
    b->bufcap = cap;
}

/* Appends raw[start..end) to the current block, collapsing whitespace. */
static void append_text(builder *b, const unsigned char *raw, size_t start, size_t end)
{
    buf_reserve(b, end - start + 1);
    char *out = b->buf;
    size_t o = b->len;
    int pending_space = o > 0;
    size_t i = start;
    while (i < end) {
        unsigned char ch = raw[i];
        if (ch > ' ' && ch < 0x7F) { /* printable ASCII: the common case */
            if (pending_space) {
                out[o++] = ' ';
                pending_space = 0;
            }
            out[o++] = (char)ch;
            i++;
            continue;
        }
        if (ch == ' ') {
            pending_space = o > 0;
            i++;
            continue;
        }
        size_t sp = space_len(raw, i, end);
        if (sp) {
            pending_space = o > 0;
            i += sp;
            continue;
        }
        if (pending_space) {
            out[o++] = ' ';
            pending_space = 0;
        }
        out[o++] = (char)ch;
        i++;
    }
    b->len = o;
}

static void push_block(builder *b, nm_block_kind kind, int level, int list_id, bool ordered)
{
    if (b->len == 0)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        b->blocks = nm_arena_grow(b->arena, b->blocks, b->n * sizeof *b->blocks,
                                  cap * sizeof *b->blocks);
        b->cap = cap;
    }
    nm_block *blk = &b->blocks[b->n++];
    blk->kind = kind;
    blk->level = level;
    blk->list_id = list_id;
    blk->ordered = ordered;
    blk->text = nm_arena_strndup(b->arena, b->buf, b->len);
    blk->len = b->len;
    b->len = 0;
}

/* If the line starts with a list marker, returns the offset of the item text
 * and sets *ordered; else 0. */
static size_t list_marker(const unsigned char *s, size_t start, size_t end, bool *ordered)
{
    size_t i = start;
    while (i < end && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t d = i;
    while (d < end && s[d] >= '0' && s[d] <= '9' && d - i < 3)
        d++;
    if (d > i && d < end && (s[d] == '.' || s[d] == ')') && d + 1 < end &&
        (s[d + 1] == ' ' || s[d + 1] == '\t') && !(d - i == 3)) {
        *ordered = true;
        return d + 1;
    }
    static const char *const bullets[] = {"-", "*", "\xE2\x80\xA2", "\xE2\x80\x93", "\xE2\x80\x94",
                                          "\xC2\xB7", "\xE2\x96\xAA", "\xE2\x97\xA6", "+"};
    for (size_t k = 0; k < sizeof bullets / sizeof bullets[0]; k++) {
        size_t bl = strlen(bullets[k]);
        if (i + bl < end && !memcmp(s + i, bullets[k], bl) && (s[i + bl] == ' ' || s[i + bl] == '\t')) {
            *ordered = false;
            return i + bl;
        }
    }
    return 0;
}

static int line_blank(const unsigned char *s, size_t start, size_t end)
{
    for (size_t i = start; i < end;) {
        size_t sp = space_len(s, i, end);
        if (!sp && s[i] != '\r')
            return 0;
        i += sp ? sp : 1;
    }
    return 1;
}

/* A short line that reads like a heading. */
static int title_like(const char *t, size_t len)
{
    if (len == 0 || len > 120)
        return 0;
    unsigned char first = (unsigned char)t[0];
    if (first >= 'a' && first <= 'z')
        return 0;
    if (first == '"' || first == '\'' || first == '(' || (first == 0xE2 && len > 2 &&
        (unsigned char)t[1] == 0x80 && ((unsigned char)t[2] == 0x9C || (unsigned char)t[2] == 0x98)))
        return 0; /* a quotation */
    unsigned char last = (unsigned char)t[len - 1];
    if (last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '"')
        return 0;
    if (len >= 3 && (unsigned char)t[len - 3] == 0xE2 && (unsigned char)t[len - 2] == 0x80 &&
        ((unsigned char)t[len - 1] == 0x9D || (unsigned char)t[len - 1] == 0xA6))
        return 0; /* ends with a closing quote or an ellipsis */
    size_t words = 1;
    for (size_t i = 0; i < len; i++)
        words += t[i] == ' ';
    return words <= 12;
}

int nm_text_parse(nm_arena *arena, const char *text, size_t len, nm_doc *doc, nm_error *err)
{
    memset(doc, 0, sizeof *doc);
    const unsigned char *s = (const unsigned char *)text;
    builder b = {.arena = arena};
    /* block-level state */
    enum { NONE, PARA, ITEM } cur = NONE;
    bool cur_ordered = false;
    int list_id = 0, last_list = 0, next_list = 0;
    size_t lines_in_block = 0;
    size_t block_first = (size_t)-1; /* index of the first nm_block of the current raw block */
    size_t pending_heading = (size_t)-1; /* single-line block that may be a heading */
    int prev_block_was_list = 0;

    size_t i = 0;
    while (i <= len) {
        size_t ls = i;
        while (i < len && s[i] != '\n' && s[i] != '\r')
            i++;
        size_t le = i;
        if (i < len && s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
            i++;
        i++; /* past the newline (or past the end) */
        int blank = line_blank(s, ls, le);
        if (!doc->title) {
            if (!blank) {
                append_text(&b, s, ls, le);
                doc->title = nm_arena_strndup(arena, b.buf, b.len);
                b.len = 0;
            }
            if (i > len)
                break;
            continue;
        }
        if (blank) { /* end of a raw block */
            if (cur == PARA)
                push_block(&b, NM_BLOCK_PARAGRAPH, 0, 0, false);
            else if (cur == ITEM)
                push_block(&b, NM_BLOCK_LIST_ITEM, 1, list_id, cur_ordered);
            if (lines_in_block == 1 && block_first != (size_t)-1 && block_first + 1 == b.n &&
                b.blocks[block_first].kind == NM_BLOCK_PARAGRAPH)
                pending_heading = block_first;
            else if (lines_in_block > 0)
                pending_heading = (size_t)-1;
            if (lines_in_block > 0) {
                prev_block_was_list = cur == ITEM;
                if (cur == ITEM)
                    last_list = list_id;
            }
            cur = NONE;
            lines_in_block = 0;
            block_first = (size_t)-1;
            if (i > len)
                break;
            continue;
        }
        /* a content line */
        if (lines_in_block == 0) {
            block_first = b.n;
            /* the previous single-line block is a heading if it reads like one */
            if (pending_heading != (size_t)-1) {
                nm_block *h = &b.blocks[pending_heading];
                if (title_like(h->text, h->len)) {
                    h->kind = NM_BLOCK_HEADING;
                    h->level = 2;
                }
                pending_heading = (size_t)-1;
            }
        }
        lines_in_block++;
        bool ordered = false;
        size_t item = list_marker(s, ls, le, &ordered);
        if (item) {
            if (cur == PARA)
                push_block(&b, NM_BLOCK_PARAGRAPH, 0, 0, false);
            else if (cur == ITEM)
                push_block(&b, NM_BLOCK_LIST_ITEM, 1, list_id, cur_ordered);
            if (cur != ITEM || ordered != cur_ordered) {
                if (cur == NONE && lines_in_block == 1 && prev_block_was_list && last_list &&
                    b.n > 0 && b.blocks[b.n - 1].list_id == last_list &&
                    b.blocks[b.n - 1].ordered == ordered)
                    list_id = last_list; /* the list goes on after a blank line */
                else
                    list_id = ++next_list;
            }
            cur = ITEM;
            cur_ordered = ordered;
            append_text(&b, s, item, le);
            if (b.len == 0)
                cur = NONE;
        } else {
            if (cur == NONE)
                cur = PARA;
            append_text(&b, s, ls, le);
        }
        if (i > len) {
            if (cur == PARA)
                push_block(&b, NM_BLOCK_PARAGRAPH, 0, 0, false);
            else if (cur == ITEM)
                push_block(&b, NM_BLOCK_LIST_ITEM, 1, list_id, cur_ordered);
            break;
        }
    }
    doc->blocks = b.blocks;
    doc->n_blocks = b.n;
    if (!doc->title || (doc->title[0] == '\0' && b.n == 0))
        return nm_error_set(err, NM_ERR_EMPTY, "no text");
    return 0;
}
