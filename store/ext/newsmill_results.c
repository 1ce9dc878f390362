/*
 * newsmill_results.so: the SQL functions of a results database (hamming(),
 * minhash_similarity(), and nm_unzstd(), nm_summary(), ... that its
 * generated columns call) as an SQLite extension, for the sqlite3 shell and
 * any program that did not open the database through nm_store:
 *
 *   sqlite3 -cmd '.load /usr/lib/newsmill/newsmill_results' results.db 'PRAGMA integrity_check'
 *
 * (docs/queries.md). The functions are nm_store's own, registered by the
 * same nm_store_register_sql_functions() (nm_store_sql.c), built with
 * NM_SQLITE_EXTENSION.
 */
#include "nm_store_sqlite.h"

SQLITE_EXTENSION_INIT1

#include "nm_store_int.h"

/* The shell's `.load FILE` calls sqlite3_newsmillresults_init (the name made
 * from the file name); other programs may ask for sqlite3_extension_init.
 * The only symbols the library exports (built with hidden visibility). */
#define NM_EXPORT __attribute__((visibility("default")))
NM_EXPORT int sqlite3_newsmillresults_init(sqlite3 *db, char **errmsg,
                                           const sqlite3_api_routines *api);
NM_EXPORT int sqlite3_extension_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api);

int sqlite3_newsmillresults_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    SQLITE_EXTENSION_INIT2(api);
    int rc = nm_store_register_sql_functions(db);
    if (rc != SQLITE_OK && errmsg)
        *errmsg = sqlite3_mprintf("newsmill_results: registering the functions: %s",
                                  sqlite3_errstr(rc));
    return rc;
}

int sqlite3_extension_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    return sqlite3_newsmillresults_init(db, errmsg, api);
}
