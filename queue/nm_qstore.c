/* nm_qstore: what every store shares (see nm_qstore.h). */
#include "nm_qstore.h"

#include <stdlib.h>
#include <string.h>

void nm_qstore_row_clear(nm_qstore_row *row)
{
    free(row->article);
    memset(row, 0, sizeof *row);
}

void nm_qstore_letters_free(Newsmill__DeadLetter **letters, size_t n)
{
    for (size_t i = 0; i < n; i++)
        newsmill__dead_letter__free_unpacked(letters[i], NULL);
    free(letters);
}

void nm_qstore_close(nm_qstore **s)
{
    if (!s || !*s)
        return;
    (*s)->ops->close(*s);
    *s = NULL;
}
