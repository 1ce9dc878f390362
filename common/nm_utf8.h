/*
 * nm_utf8: validating and walking UTF-8 (RFC 3629).
 *
 * Valid means: shortest-form sequences only, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF. NUL bytes are valid UTF-8 (callers that must not
 * accept them check separately). Pure functions; no allocation except
 * nm_utf8_repair, which returns a malloc'd copy.
 */
#ifndef NM_UTF8_H
#define NM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when buf[0..len) is valid UTF-8. Otherwise false and, if bad_offset
 * is not NULL, the offset of the first byte of the first invalid sequence. */
bool nm_utf8_valid(const char *buf, size_t len, size_t *bad_offset);

/* Decodes the code point at buf[*pos] (pos < len) and advances *pos past it.
 * An invalid sequence yields U+FFFD and advances one byte, so a loop always
 * terminates. */
uint32_t nm_utf8_next(const char *buf, size_t len, size_t *pos);

/* Encodes cp (<= U+10FFFF) into out (4 bytes room); returns bytes written. */
size_t nm_utf8_encode(uint32_t cp, char out[4]);

/* A copy of buf with every invalid sequence replaced by U+FFFD (EF BF BD),
 * NUL-terminated; *out_len gets its length, *n_repaired (may be NULL) the
 * number of replacements. Caller frees with free(). */
char *nm_utf8_repair(const char *buf, size_t len, size_t *out_len, size_t *n_repaired);

#endif
