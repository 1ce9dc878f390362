/*
 * The `newsmill` command: one binary, one function per subcommand.
 *
 * Each subcommand lives in cli/cmd_<name>.c as
 *     int nm_cmd_<name>(int argc, char **argv);
 * where argv[0] is the subcommand name, and returns one of the exit codes
 * below. Subcommands parse their own options with nm_opts (so each has
 * --help) and keep the protocol work in common/.
 */
#ifndef NM_CLI_H
#define NM_CLI_H

/* Exit codes: documented in `newsmill --help` and README. */
enum {
    NM_EXIT_OK = 0,          /* did what was asked */
    NM_EXIT_FAILURE = 1,     /* failed; the message says why */
    NM_EXIT_USAGE = 2,       /* bad command line */
    NM_EXIT_UNAVAILABLE = 3, /* a server did not answer in time */
    NM_EXIT_PARTIAL = 4,     /* done, but some items were rejected */
};

/* The help of the read side's --db and --dir (query, export, serve); the
 * defaults are nm_partition.h's. */
#define NM_CLI_DB_HELP                                                                       \
    "results database (\"\" and no --dir: " NM_RESULTS_DIR_DEFAULT " when it is a directory, " \
    "else " NM_RESULTS_DB_DEFAULT ")"
#define NM_CLI_DIR_HELP "every results*.db in each DIR instead (one per host, or time partitions)"

int nm_cmd_version(int argc, char **argv);
int nm_cmd_keygen(int argc, char **argv);
int nm_cmd_extract(int argc, char **argv);
int nm_cmd_submit(int argc, char **argv);
int nm_cmd_dead(int argc, char **argv);
int nm_cmd_query(int argc, char **argv);
int nm_cmd_serve(int argc, char **argv);
int nm_cmd_export(int argc, char **argv);
int nm_cmd_stats(int argc, char **argv);
int nm_cmd_watch(int argc, char **argv);
int nm_cmd_prune(int argc, char **argv);

#endif
