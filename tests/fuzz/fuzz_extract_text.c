/*
 * fuzz_extract_text: nm_extract on arbitrary bytes read as plain text
 * (NM_CONTENT_TEXT): titles, paragraphs, sentences, sections, entities,
 * keyphrases, summary, fingerprints, JSON. Invalid UTF-8 must be refused with
 * NM_ERR_UTF8; everything else must give a result that keeps every promise
 * of nm_extract.h (fuzz_extract.h checks them). Seeds: short articles.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_extract_one(data, size, NM_CONTENT_TEXT);
    return 0;
}
