#include "nm_readability.h"

/* 1 = vowel, 2 = 'y' (a vowel except at the start); ASCII, both cases. */
static const unsigned char vowels[128] = {
    ['a'] = 1, ['e'] = 1, ['i'] = 1, ['o'] = 1, ['u'] = 1, ['y'] = 2,
    ['A'] = 1, ['E'] = 1, ['I'] = 1, ['O'] = 1, ['U'] = 1, ['Y'] = 2,
};

/* Latin-1 supplement vowels (second byte after 0xC3): à-æ è-ï ò-ö ù-ý ÿ and capitals. */
static int accented_vowel(unsigned char d)
{
    d = (unsigned char)(d | 0x20); /* capitals 0x80-0x9F -> 0xA0-0xBF */
    return (d >= 0xA0 && d <= 0xA6) || (d >= 0xA8 && d <= 0xAF) || (d >= 0xB2 && d <= 0xB6) ||
           (d >= 0xB9 && d <= 0xBD) || d == 0xBF;
}

static int is_cons(unsigned char c)
{
    return c >= 'a' && c <= 'z' && c != 'a' && c != 'e' && c != 'i' && c != 'o' && c != 'u' &&
           c != 'y';
}

unsigned nm_syllables(const char *word, size_t len)
{
    unsigned char low[64];
    if (len > sizeof low)
        return (unsigned)(len / 3);
    if (len == 0)
        return 0;
    const unsigned char *u = (const unsigned char *)word;
    if (u[0] >= '0' && u[0] <= '9')
        return 1;
    unsigned groups = 0;
    int in_vowel = 0, pairs = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = u[i];
        int v;
        if (c < 0x80) {
            low[i] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
            v = vowels[c];
            if (v == 2)
                v = i > 0;
        } else {
            low[i] = c;
            v = c == 0xC3 && i + 1 < len && accented_vowel(u[i + 1]);
            if ((c & 0xC0) == 0x80)
                continue; /* continuation byte: part of the previous letter */
        }
        if (v) {
            pairs |= in_vowel;
            groups += !in_vowel;
        }
        in_vowel = v;
    }
    const unsigned char *w = low;
    if (!pairs)
        goto endings;
    /* vowel pairs that are two syllables: "humanitarian", "video", "usual",
     * except in -tion, -cial, -sion, -gion, -xious */
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char a = w[i - 1], x = w[i], y = w[i + 1];
        int pair = (x == 'i' && (y == 'a' || y == 'o' || y == 'u')) || (x == 'e' && y == 'o') ||
                   (x == 'u' && (y == 'a' || y == 'o'));
        if (!pair)
            continue;
        if (x == 'u' ? (a != 'q' && a != 'g') : (a != 'c' && a != 't' && a != 's' && a != 'g' && a != 'x'))
            groups++;
    }
endings:
    if (len >= 3 && groups > 1) {
        unsigned char a = w[len - 3], b = w[len - 2], c = w[len - 1];
        if (c == 'e' && b != 'l' && is_cons(b) && !(b == 'e'))
            groups--; /* silent final e: "make", "ceasefire" */
        else if (c == 'e' && b == 'l' && !is_cons(a))
            groups--; /* "scale", "mile" (but "table" keeps its -le) */
        else if (c == 'd' && b == 'e' && a != 't' && a != 'd' && is_cons(a))
            groups--; /* "played" no, "helped": silent -ed */
        else if (c == 's' && b == 'e' && is_cons(a) && a != 's' && a != 'x' && a != 'z' &&
                 a != 'h' && a != 'c' && a != 'g')
            groups--; /* "makes" but not "boxes", "places" */
    }
    return groups ? groups : 1;
}

void nm_readability_scores(nm_counts *c)
{
    if (c->words == 0 || c->sentences == 0) {
        c->avg_sentence_words = 0;
        c->flesch_reading_ease = 0;
        c->flesch_kincaid_grade = 0;
        return;
    }
    double wps = (double)c->words / (double)c->sentences;
    double spw = (double)c->syllables / (double)c->words;
    c->avg_sentence_words = wps;
    c->flesch_reading_ease = 206.835 - 1.015 * wps - 84.6 * spw;
    c->flesch_kincaid_grade = 0.39 * wps + 11.8 * spw - 15.59;
}
