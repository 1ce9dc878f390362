/* newsmill prune: retention of time partitions (nm_partition.h): removes
 * the closed partitions of one or more directories whose period ended
 * longer ago than --older-than, never one a worker has open. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nm_alloc.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_time.h"

struct totals {
    int files;
    int64_t bytes;
};

static void print_removed(void *ctx, const char *path, int64_t bytes)
{
    struct totals *t = ctx;
    printf("removed %s (%" PRId64 " bytes)\n", path, bytes);
    t->files++;
    t->bytes += bytes;
}

int nm_cmd_prune(int argc, char **argv)
{
    const char *dir = NM_RESULTS_DIR_DEFAULT;
    int64_t older_ms = 0;
    const nm_opt opts[] = {
        {"dir", 0, NM_OPT_STRING, &dir, "DIR[,DIR...]",
         "directories of time partitions (a worker's --results-dir)", 0, 0},
        {"older-than", 0, NM_OPT_DURATION, &older_ms, "DURATION",
         "remove the partitions whose period ended longer ago than this (required: 90d)", 0, 0},
    };
    const nm_opts_program program = {
        "newsmill prune", "--older-than DURATION [OPTIONS]",
        "Removes whole closed time partitions (results-<start>-<period>[-wN].db, with their WAL)\n"
        "whose period ended longer ago than --older-than, and says what it removed. A partition\n"
        "a worker has open is kept; files that are not partitions are never touched.",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    if (older_ms <= 0) {
        fprintf(stderr, "newsmill prune: --older-than DURATION is required (e.g. 90d)\n");
        return NM_EXIT_USAGE;
    }
    int64_t cutoff = nm_time_unix_ms() - older_ms;
    struct totals t = {0};
    char *copy = nm_xstrdup(dir), *save = NULL;
    rc = NM_EXIT_OK;
    for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
        nm_error err;
        if (nm_partition_prune(d, cutoff, print_removed, &t, &err) < 0) {
            fprintf(stderr, "newsmill prune: %s\n", err.msg);
            rc = NM_EXIT_FAILURE;
        }
    }
    free(copy);
    char when[40];
    printf("removed %d partition%s, %" PRId64 " bytes, ended before %s\n", t.files,
           t.files == 1 ? "" : "s", t.bytes, nm_time_format_iso(cutoff, when, sizeof when));
    return rc;
}
