#include "nm_opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_time.h"

/* Strings read from config files live for the whole process: keep them
 * reachable so leak checkers stay quiet. */
static char **kept_strings;
static size_t n_kept_strings;

static const char *keep_string(const char *s)
{
    kept_strings = nm_xrealloc(kept_strings, (n_kept_strings + 1) * sizeof *kept_strings);
    return kept_strings[n_kept_strings++] = nm_xstrdup(s);
}

int nm_opts_parse_bytes(const char *text, int64_t *bytes, nm_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || v < 0)
        return nm_error_set(err, NM_ERR_INVALID, "size '%s' is not like 4096, 64K, 16M, 1G", text);
    double scale = 1;
    if (*end == 'k' || *end == 'K')
        scale = 1024.0;
    else if (*end == 'm' || *end == 'M')
        scale = 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G')
        scale = 1024.0 * 1024 * 1024;
    else if (*end && *end != 'b' && *end != 'B')
        return nm_error_set(err, NM_ERR_INVALID, "size '%s' has unknown unit '%s'", text, end);
    if (*end) {
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b"))
            end += strlen(end);
    }
    if (*end)
        return nm_error_set(err, NM_ERR_INVALID, "size '%s' has trailing '%s'", text, end);
    if (v * scale > 9.2e18)
        return nm_error_set(err, NM_ERR_INVALID, "size '%s' is too large", text);
    *bytes = (int64_t)(v * scale);
    return 0;
}

static int check_bounds(const nm_opt *o, double v, nm_error *err)
{
    if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
        return nm_error_set(err, NM_ERR_INVALID, "--%s must be between %g and %g", o->name, o->min,
                            o->max);
    return 0;
}

/* Stores text (which outlives the program run when it points into argv) into
 * the option's target. */
static int set_value(const nm_opt *o, const char *text, nm_error *err)
{
    char *end;
    switch (o->type) {
    case NM_OPT_STRING:
        *(const char **)o->target = text;
        return 0;
    case NM_OPT_FLAG:
        if (!text || !strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
            *(bool *)o->target = true;
        else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
            *(bool *)o->target = false;
        else
            return nm_error_set(err, NM_ERR_INVALID, "--%s takes true or false, not '%s'", o->name,
                                text);
        return 0;
    case NM_OPT_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (end == text || *end || errno)
            return nm_error_set(err, NM_ERR_INVALID, "--%s needs an integer, not '%s'", o->name, text);
        if (check_bounds(o, (double)v, err))
            return -1;
        *(int64_t *)o->target = v;
        return 0;
    }
    case NM_OPT_DOUBLE: {
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end || errno || !isfinite(v))
            return nm_error_set(err, NM_ERR_INVALID, "--%s needs a number, not '%s'", o->name, text);
        if (check_bounds(o, v, err))
            return -1;
        *(double *)o->target = v;
        return 0;
    }
    case NM_OPT_BYTES:
    case NM_OPT_DURATION: {
        int64_t v;
        int rc = o->type == NM_OPT_BYTES ? nm_opts_parse_bytes(text, &v, err)
                                         : nm_duration_parse_ms(text, &v, err);
        if (rc)
            return nm_error_prefix(err, "--%s", o->name);
        if (check_bounds(o, (double)v, err))
            return -1;
        *(int64_t *)o->target = v;
        return 0;
    }
    }
    return nm_error_set(err, NM_ERR_INTERNAL, "--%s has an unknown type", o->name);
}

static const nm_opt *find_long(const nm_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
            return &opts[i];
    }
    return NULL;
}

static const nm_opt *find_short(const nm_opt *opts, size_t n, char c)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i].short_name && opts[i].short_name == c)
            return &opts[i];
    }
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int load_config(const nm_opt *opts, size_t n, const char *path, nm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nm_error_set(err, NM_ERR_INVALID, "--config %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        char *name = trim(eq ? (*eq = '\0', s) : s);
        const nm_opt *o = find_long(opts, n, name, strlen(name));
        if (!o) {
            rc = nm_error_set(err, NM_ERR_INVALID, "%s:%d: unknown option '%s'", path, lineno, name);
        } else if (!eq && o->type != NM_OPT_FLAG) {
            rc = nm_error_set(err, NM_ERR_INVALID, "%s:%d: '%s' needs '= value'", path, lineno, name);
        } else {
            const char *value = eq ? keep_string(trim(eq + 1)) : NULL;
            if (set_value(o, value, err))
                rc = nm_error_prefix(err, "%s:%d", path, lineno);
        }
    }
    fclose(f);
    return rc;
}

int nm_opts_parse(const nm_opt *opts, size_t n_opts, int argc, char **argv,
                  int *first_positional, nm_error *err)
{
    /* Pass 1: --help wins over everything; --config loads before the rest. */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return NM_OPTS_HELP;
    }
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc)
                return nm_error_set(err, NM_ERR_INVALID, "--config needs a FILE");
            path = argv[i + 1];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        }
        if (path && load_config(opts, n_opts, path, err))
            return -1;
    }

    /* Pass 2: options in order; positionals collected in order. */
    char **positional = nm_xcalloc((size_t)argc, sizeof *positional);
    int n_pos = 0, rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            while (++i < argc)
                positional[n_pos++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == '\0') { /* "-" alone means stdin: positional */
            positional[n_pos++] = a;
            continue;
        }
        const nm_opt *o;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            if (len == 6 && !strncmp(name, "config", 6)) {
                i += eq ? 0 : 1; /* already loaded in pass 1 */
                continue;
            }
            o = find_long(opts, n_opts, name, len);
            if (!o) {
                rc = nm_error_set(err, NM_ERR_INVALID, "unknown option '--%.*s' (see --help)",
                                  (int)len, name);
                break;
            }
            if (eq)
                value = eq + 1;
        } else {
            o = find_short(opts, n_opts, a[1]);
            if (!o || a[2]) {
                rc = nm_error_set(err, NM_ERR_INVALID, "unknown option '%s' (see --help)", a);
                break;
            }
        }
        if (o->type == NM_OPT_FLAG) {
            rc = set_value(o, value, err);
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                rc = nm_error_set(err, NM_ERR_INVALID, "--%s needs a value (%s)", o->name,
                                  o->arg ? o->arg : "VALUE");
                break;
            }
            value = argv[++i];
        }
        rc = set_value(o, value, err);
    }
    if (!rc) {
        int first = argc - n_pos;
        for (int k = 0; k < n_pos; k++)
            argv[first + k] = positional[k];
        if (first_positional)
            *first_positional = first;
    }
    free(positional);
    return rc;
}

static void format_default(const nm_opt *o, char *buf, size_t size)
{
    buf[0] = '\0';
    switch (o->type) {
    case NM_OPT_STRING: {
        const char *s = *(const char **)o->target;
        if (s && *s)
            snprintf(buf, size, "%s", s);
        break;
    }
    case NM_OPT_FLAG:
        break;
    case NM_OPT_INT:
        snprintf(buf, size, "%lld", (long long)*(int64_t *)o->target);
        break;
    case NM_OPT_DOUBLE:
        snprintf(buf, size, "%g", *(double *)o->target);
        break;
    case NM_OPT_BYTES: {
        int64_t v = *(int64_t *)o->target;
        if (v && v % (1024 * 1024 * 1024) == 0)
            snprintf(buf, size, "%lldG", (long long)(v >> 30));
        else if (v && v % (1024 * 1024) == 0)
            snprintf(buf, size, "%lldM", (long long)(v >> 20));
        else if (v && v % 1024 == 0)
            snprintf(buf, size, "%lldK", (long long)(v >> 10));
        else
            snprintf(buf, size, "%lld", (long long)v);
        break;
    }
    case NM_OPT_DURATION: {
        int64_t v = *(int64_t *)o->target;
        if (v && v % 3600000 == 0)
            snprintf(buf, size, "%lldh", (long long)(v / 3600000));
        else if (v && v % 60000 == 0)
            snprintf(buf, size, "%lldm", (long long)(v / 60000));
        else if (v && v % 1000 == 0)
            snprintf(buf, size, "%llds", (long long)(v / 1000));
        else
            snprintf(buf, size, "%lldms", (long long)v);
        break;
    }
    }
}

void nm_opts_usage(FILE *out, const char *program, const char *synopsis,
                   const char *description, const nm_opt *opts, size_t n_opts)
{
    fprintf(out, "usage: %s %s\n", program, synopsis ? synopsis : "[OPTIONS]");
    if (description && *description)
        fprintf(out, "\n%s\n", description);
    fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < n_opts; i++) {
        const nm_opt *o = &opts[i];
        char left[96], def[128];
        int n = o->short_name ? snprintf(left, sizeof left, "  -%c, --%s", o->short_name, o->name)
                              : snprintf(left, sizeof left, "      --%s", o->name);
        if (o->type != NM_OPT_FLAG && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg ? o->arg : "VALUE");
        format_default(o, def, sizeof def);
        fprintf(out, "%-34s %s", left, o->help ? o->help : "");
        if (def[0])
            fprintf(out, " (default: %s)", def);
        fputc('\n', out);
    }
    fprintf(out, "%-34s %s\n", "      --config FILE", "read options from FILE (name = value lines)");
    fprintf(out, "%-34s %s\n", "  -h, --help", "show this help and exit");
}

int nm_opts_run(const nm_opts_program *p, int argc, char **argv, int *first_positional)
{
    int first = argc;
    nm_error err;
    int rc = nm_opts_parse(p->opts, p->n_opts, argc, argv, &first, &err);
    if (rc == NM_OPTS_HELP) {
        nm_opts_usage(stdout, p->name, p->synopsis, p->description, p->opts, p->n_opts);
        return NM_OPTS_HELP;
    }
    if (rc == 0 && p->max_args >= 0 && argc - first > p->max_args)
        rc = nm_error_set(&err, NM_ERR_INVALID, "unexpected argument '%s'", argv[first + p->max_args]);
    if (rc != 0) {
        fprintf(stderr, "%s: %s%s\n", p->name, err.msg,
                strstr(err.msg, "--help") ? "" : " (see --help)");
        return -1;
    }
    if (first_positional)
        *first_positional = first;
    return 0;
}
