/*
 * The SQLite API of the modules the extension newsmill_results.so is built
 * from too (nm_store_sql.c, nm_store_pack.c; store/CMakeLists.txt): the
 * library's in nm_store, and with NM_SQLITE_EXTENSION the loading
 * program's, every sqlite3_*() call going through the table that program
 * hands to sqlite3_extension_init() (sqlite3ext.h). Included first.
 */
#ifndef NM_STORE_SQLITE_H
#define NM_STORE_SQLITE_H

#ifdef NM_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif

#endif
