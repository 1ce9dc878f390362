/*
 * nm_opts: table-driven command-line and config-file options.
 *
 * A program describes its options once, as an array of nm_opt whose targets
 * already hold the defaults; nm_opts_parse() fills them from argv and
 * nm_opts_usage() prints --help with each default read from its target, so the
 * help text and the defaults can never disagree.
 *
 * Built in to every program:
 *   -h, --help       nm_opts_parse returns NM_OPTS_HELP; print usage, exit 0
 *   --config FILE    reads "name = value" lines (# comments; names are the
 *                    long option names) before the command line, which wins
 * Options and positional arguments may be mixed; "--" ends the options.
 * "--name=value" and "--name value" both work; flags take no value.
 */
#ifndef NM_OPTS_H
#define NM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nm_error.h"

typedef enum nm_opt_type {
    NM_OPT_STRING,   /* const char **: points into argv or a kept copy */
    NM_OPT_INT,      /* int64_t *: decimal integer within [min, max] */
    NM_OPT_DOUBLE,   /* double *: within [min, max] */
    NM_OPT_FLAG,     /* bool *: set to true by its presence */
    NM_OPT_BYTES,    /* int64_t *: size with optional K, M, G (powers of 1024) */
    NM_OPT_DURATION, /* int64_t *: milliseconds, "250ms", "5s", "2m", "1h" */
} nm_opt_type;

typedef struct nm_opt {
    const char *name;  /* long name without "--" */
    char short_name;   /* single letter or 0 */
    nm_opt_type type;
    void *target;      /* where the value goes; holds the default on entry */
    const char *arg;   /* name of the value in --help ("ENDPOINT"); NULL for flags */
    const char *help;  /* one line */
    double min, max;   /* bounds for numeric types; min == max == 0: unbounded */
} nm_opt;

#define NM_OPTS_HELP 1

/* Parses argv[1..argc) against opts[0..n_opts). On success returns 0 and
 * reorders argv so that positional arguments are argv[*first_positional ..
 * argc); returns NM_OPTS_HELP if --help was given (nothing else is checked);
 * returns -1 with NM_ERR_INVALID and a message naming the option on an unknown
 * option, a missing or malformed value, or a value out of bounds. */
int nm_opts_parse(const nm_opt *opts, size_t n_opts, int argc, char **argv,
                  int *first_positional, nm_error *err);

/* Prints "usage: PROGRAM SYNOPSIS", the description, and one line per option
 * with its current value as the default. */
void nm_opts_usage(FILE *out, const char *program, const char *synopsis,
                   const char *description, const nm_opt *opts, size_t n_opts);

/* What a program or subcommand says about itself, for nm_opts_run(). */
typedef struct nm_opts_program {
    const char *name;        /* "newsmill-queue", "newsmill dead": starts usage and errors */
    const char *synopsis;    /* after the name in "usage:", e.g. "[OPTIONS] PATH..." */
    const char *description; /* paragraph under the usage line */
    const nm_opt *opts;
    size_t n_opts;
    int max_args;            /* positional arguments allowed; -1 = any number */
} nm_opts_program;

/* Parses argv for a program and handles what every program handles alike:
 * --help prints the usage on stdout and returns NM_OPTS_HELP; a bad option or
 * more than max_args positional arguments prints "NAME: message (see --help)"
 * on stderr and returns -1; otherwise returns 0 with *first_positional as in
 * nm_opts_parse(). A main() then reads:
 *     int rc = nm_opts_run(&program, argc, argv, &first);
 *     if (rc != 0)
 *         return rc == NM_OPTS_HELP ? 0 : 2;
 */
int nm_opts_run(const nm_opts_program *program, int argc, char **argv, int *first_positional);

/* Parses a byte size ("64M", "1G", "4096"). Returns 0 or -1 (NM_ERR_INVALID). */
int nm_opts_parse_bytes(const char *text, int64_t *bytes, nm_error *err);

#endif
