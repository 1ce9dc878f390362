/*
 * nm_store_sql: the SQL functions of a results connection, registered by
 * nm_store on every connection it opens and by the SQLite extension
 * newsmill_results.so (store/ext/) in any other program, the sqlite3 shell
 * first: hamming() and minhash_similarity() here, the functions of the
 * packed columns in nm_store_pack.c. Built twice: into nm_store, and with
 * NM_SQLITE_EXTENSION into the extension, where every sqlite3_*() call goes
 * through the loading program's SQLite (sqlite3ext.h).
 */
#include "nm_store_sqlite.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_article.h"
#include "nm_store_int.h"

static void fn_hamming(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
        sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
        sqlite3_result_null(ctx);
        return;
    }
    uint64_t a = (uint64_t)sqlite3_value_int64(argv[0]);
    uint64_t b = (uint64_t)sqlite3_value_int64(argv[1]);
    sqlite3_result_int(ctx, nm_simhash_distance(a, b));
}

static void fn_minhash_similarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || sqlite3_value_type(argv[1]) != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    const unsigned char *a = sqlite3_value_blob(argv[0]);
    int na = sqlite3_value_bytes(argv[0]);
    const unsigned char *b = sqlite3_value_blob(argv[1]);
    int nb = sqlite3_value_bytes(argv[1]);
    if (na != nb || na == 0 || na % 4 != 0) {
        sqlite3_result_null(ctx);
        return;
    }
    /* Slots compare equal as bytes exactly when they do as host uint32s. */
    size_t n = (size_t)na / 4;
    uint32_t a_fixed[NM_MINHASH_SIZE], b_fixed[NM_MINHASH_SIZE];
    uint32_t *av = n <= NM_MINHASH_SIZE ? a_fixed : nm_xmalloc(n * sizeof *av);
    uint32_t *bv = n <= NM_MINHASH_SIZE ? b_fixed : nm_xmalloc(n * sizeof *bv);
    memcpy(av, a, n * sizeof *av);
    memcpy(bv, b, n * sizeof *bv);
    sqlite3_result_double(ctx, nm_minhash_similarity(av, bv, n));
    if (av != a_fixed) {
        free(av);
        free(bv);
    }
}

int nm_store_register_sql_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "hamming", 2, flags, NULL, fn_hamming, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "minhash_similarity", 2, flags, NULL,
                                     fn_minhash_similarity, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = nm_store_register_pack_functions(db);
    return rc;
}
