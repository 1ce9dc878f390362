#include "nm_readability.h"

static int vowel_at(const unsigned char *w, size_t len, size_t i, size_t *adv)
{
    unsigned char c = w[i];
    *adv = 1;
    if (c < 0x80) {
        switch (c) {
        case 'a': case 'e': case 'i': case 'o': case 'u':
            return 1;
        case 'y':
            return i > 0; /* "yes" starts with a consonant */
        default:
            return 0;
        }
    }
    if (c == 0xC3 && i + 1 < len) { /* Latin-1 supplement: accented vowels */
        *adv = 2;
        unsigned char d = w[i + 1];
        return (d >= 0xA0 && d <= 0xA6) || (d >= 0xA8 && d <= 0xAF) || (d >= 0xB2 && d <= 0xB6) ||
               (d >= 0xB9 && d <= 0xBD) || d == 0xBF;
    }
    size_t n = 1;
    while (i + n < len && (w[i + n] & 0xC0) == 0x80)
        n++;
    *adv = n;
    return 0;
}

static int is_cons(unsigned char c)
{
    return c >= 'a' && c <= 'z' && c != 'a' && c != 'e' && c != 'i' && c != 'o' && c != 'u' &&
           c != 'y';
}

unsigned nm_syllables(const char *word, size_t len)
{
    const unsigned char *w = (const unsigned char *)word;
    if (len == 0)
        return 0;
    if (w[0] >= '0' && w[0] <= '9')
        return 1;
    unsigned groups = 0;
    int in_vowel = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        int v = vowel_at(w, len, i, &adv);
        if (v && !in_vowel)
            groups++;
        in_vowel = v;
        i += adv;
    }
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
