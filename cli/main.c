/* newsmill: the operator's command. Dispatches to cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nm_log.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"version", nm_cmd_version, "print the version"},
    {"keygen", nm_cmd_keygen, "write a CURVE key pair (PATH and PATH.pub)"},
    {"extract", nm_cmd_extract, "extract one article (file or stdin) and print JSON"},
    {"submit", nm_cmd_submit, "submit files, directories or JSON lines to the queue"},
    {"query", nm_cmd_query, "questions over the results: search, entity, top, dups, article"},
    {"export", nm_cmd_export, "write every article as JSON lines or CSV (stdout)"},
    {"prune", nm_cmd_prune, "remove closed time partitions older than --older-than (retention)"},
    {"serve", nm_cmd_serve, "serve the results: JSON API and newsroom page over HTTP"},
    {"stats", nm_cmd_stats, "the fleet from the collector: totals, rates, latency, processes"},
    {"watch", nm_cmd_watch, "live view of the fleet, refreshed every second (Ctrl-C quits)"},
    {"dead", nm_cmd_dead, "list dead letters with their failures; --requeue ID|--all"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: newsmill COMMAND [OPTIONS] [ARGS]\n\n"
                 "The newsmill operator's command. `newsmill COMMAND --help` for each.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\nexit codes: 0 ok, 1 failure, 2 bad command line, 3 server unavailable,\n"
                 "            4 done but some items rejected\n");
}

int main(int argc, char **argv)
{
    nm_log_init("newsmill");
    if (argc < 2) {
        usage(stderr);
        return NM_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return NM_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return nm_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "newsmill: unknown command '%s' (see newsmill --help)\n", argv[1]);
    return NM_EXIT_USAGE;
}
