/*
 * nm_structure: sections and the outline of an article.
 *
 * Every heading paragraph opens a section that runs to the next heading; the
 * heading's level is made relative (the document's highest heading level is
 * 1). The outline is the first list (consecutive list items sharing a list
 * id) that stands before the headings and whose items name later headings:
 * at least two items, or its only item, and at least half of them must match
 * a heading after the list (same words after folding case and punctuation,
 * or one contained in the other). Each matched item is linked to its section
 * and the section back to the item.
 *
 * Time is linear in paragraphs plus at most 64 items x 256 headings of
 * comparisons. Allocates only from the result's arena.
 */
#ifndef NM_STRUCTURE_H
#define NM_STRUCTURE_H

#include "nm_doc.h"
#include "nm_article.h"

/* Fills r->sections, r->outline and every paragraph's section index.
 * r->paragraphs[i] must come from doc->blocks[i]. */
void nm_structure_build(nm_extract_result *r, const nm_doc *doc);

#endif
