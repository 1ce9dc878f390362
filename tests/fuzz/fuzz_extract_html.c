/*
 * fuzz_extract_html: nm_extract on arbitrary bytes read as HTML
 * (NM_CONTENT_HTML): HTML parsing (nm_html_tree.c's own tokenizer), boilerplate removal, metadata and
 * JSON-LD, then the whole text pipeline. HTML is repaired, never refused for
 * bad UTF-8; every result must keep the promises of nm_extract.h
 * (fuzz_extract.h). Seeds: HTML snippets; dictionary: tags and attributes.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_extract_one(data, size, NM_CONTENT_HTML);
    return 0;
}
