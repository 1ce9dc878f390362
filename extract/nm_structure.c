#include "nm_structure.h"

#include <string.h>

#define MAX_ITEMS 64
#define MAX_HEADINGS 256

/* Folds s to lower-case ASCII letters/digits (other bytes kept) separated by
 * single spaces; returns the length written into out (cap bytes). */
static size_t fold(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
            if (space && o)
                out[o++] = ' ';
            space = 0;
            out[o++] = (char)c;
        } else if (c >= 'A' && c <= 'Z') {
            if (space && o)
                out[o++] = ' ';
            space = 0;
            out[o++] = (char)(c + 32);
        } else {
            space = 1;
        }
    }
    out[o] = '\0';
    return o;
}

static int texts_match(const char *a, size_t alen, const char *b, size_t blen)
{
    char fa[256], fb[256];
    size_t na = fold(a, alen, fa, sizeof fa), nb = fold(b, blen, fb, sizeof fb);
    if (na == 0 || nb == 0)
        return 0;
    if (na == nb && !memcmp(fa, fb, na))
        return 1;
    const char *lng = na > nb ? fa : fb, *sht = na > nb ? fb : fa;
    size_t nl = na > nb ? na : nb, ns = na > nb ? nb : na;
    return ns * 10 >= nl * 6 && ns >= 8 && strstr(lng, sht) != NULL;
}

void nm_structure_build(nm_extract_result *r, const nm_doc *doc)
{
    size_t n = r->n_paragraphs;
    size_t n_sec = 0;
    int min_level = 7;
    for (size_t i = 0; i < n; i++) {
        if (doc->blocks[i].kind == NM_BLOCK_HEADING) {
            n_sec++;
            if (doc->blocks[i].level < min_level)
                min_level = doc->blocks[i].level;
        }
    }
    r->sections = n_sec ? nm_arena_calloc(r->arena, n_sec, sizeof *r->sections) : NULL;
    r->n_sections = n_sec;
    uint32_t cur = NM_NO_INDEX;
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (doc->blocks[i].kind == NM_BLOCK_HEADING) {
            nm_section *sec = &r->sections[s];
            sec->heading = doc->blocks[i].text;
            sec->heading_span = r->paragraphs[i].span;
            sec->level = doc->blocks[i].level - min_level + 1;
            if (sec->level < 1)
                sec->level = 1;
            sec->first_paragraph = (uint32_t)(i + 1);
            sec->n_paragraphs = 0;
            sec->outline_item = NM_NO_INDEX;
            cur = (uint32_t)s++;
        } else if (cur != NM_NO_INDEX) {
            r->sections[cur].n_paragraphs++;
        }
        r->paragraphs[i].section = cur;
    }
    if (n_sec == 0)
        return;

    /* heading paragraph indexes, for matching */
    size_t heads[MAX_HEADINGS], n_heads = 0;
    for (size_t i = 0; i < n && n_heads < MAX_HEADINGS; i++) {
        if (doc->blocks[i].kind == NM_BLOCK_HEADING)
            heads[n_heads++] = i;
    }
    for (size_t i = 0; i < n; i++) {
        if (doc->blocks[i].kind != NM_BLOCK_LIST_ITEM)
            continue;
        int id = doc->blocks[i].list_id;
        size_t j = i;
        while (j < n && doc->blocks[j].kind == NM_BLOCK_LIST_ITEM && doc->blocks[j].list_id == id)
            j++;
        size_t items = j - i;
        if (items <= MAX_ITEMS) {
            uint32_t match[MAX_ITEMS];
            size_t matched = 0;
            for (size_t k = 0; k < items; k++) {
                match[k] = NM_NO_INDEX;
                const nm_block *it = &doc->blocks[i + k];
                for (size_t h = 0; h < n_heads; h++) {
                    if (heads[h] < j)
                        continue;
                    uint32_t sec = r->paragraphs[heads[h]].section;
                    int taken = 0;
                    for (size_t q = 0; q < k; q++)
                        taken |= match[q] == sec;
                    if (!taken && texts_match(it->text, it->len, doc->blocks[heads[h]].text,
                                              doc->blocks[heads[h]].len)) {
                        match[k] = sec;
                        matched++;
                        break;
                    }
                }
            }
            if ((matched >= 2 || (items == 1 && matched == 1)) && matched * 2 >= items) {
                r->outline = nm_arena_calloc(r->arena, items, sizeof *r->outline);
                r->n_outline = items;
                for (size_t k = 0; k < items; k++) {
                    nm_outline_item *o = &r->outline[k];
                    o->text = doc->blocks[i + k].text;
                    o->span = r->paragraphs[i + k].span;
                    o->section = match[k];
                    if (match[k] != NM_NO_INDEX)
                        r->sections[match[k]].outline_item = (uint32_t)k;
                }
                return;
            }
        }
        i = j - 1;
    }
}
