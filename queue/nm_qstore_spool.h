/* nm_qstore_spool: the SQLite spool (nm_spool.h) as a queue store
 * (nm_qstore.h): the default, for one host. */
#ifndef NM_QSTORE_SPOOL_H
#define NM_QSTORE_SPOOL_H

#include "nm_qstore.h"
#include "nm_spool.h"

/* Opens the spool at path (nm_spool_open). NULL with err on failure. */
nm_qstore *nm_qstore_spool_open(const char *path, nm_spool_durability durability, nm_error *err);

#endif
