/*
 * nm_cld2: Chrome's language detector (CLD2, libcld2, Apache-2.0) behind a C
 * interface; the one C++ file of the build (nm_cld2.cc).
 *
 * CLD2 scores quadgrams of letters (and words for CJK) of 83 languages and
 * names the language of a text by its ISO 639-1 code ("pl", "sv", "zh"),
 * "und" when it cannot tell. Stateless, read-only tables: thread-safe.
 */
#ifndef NM_CLD2_H
#define NM_CLD2_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Detects the language of n bytes of UTF-8 text (invalid UTF-8 ends the
 * scan at the first bad byte). Writes the code, at most 7 characters and a
 * NUL, to code[8] ("und" when unknown) and returns CLD2's share of the text
 * in that language (0..100); *reliable is CLD2's own verdict (enough text,
 * clear margin). */
int nm_cld2_detect(const char *text, size_t n, char code[8], bool *reliable);

#ifdef __cplusplus
}
#endif

#endif
