#include "nm_input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_jsonl.h"

#define INPUT_MAX_FILE_DEFAULT ((size_t)64 << 20)

typedef enum entry_kind {
    ENTRY_TEXT,  /* one article, plain text */
    ENTRY_HTML,  /* one article, HTML */
    ENTRY_GUESS, /* one article, type guessed downstream */
    ENTRY_JSONL, /* JSON lines file */
    ENTRY_STDIN, /* JSON lines on stdin */
    ENTRY_ERROR, /* found unusable while walking: err_no says why */
} entry_kind;

typedef struct entry {
    char *path; /* to open and to show */
    char *id;   /* article id of a one-article file */
    entry_kind kind;
    int err_no;
} entry;

struct nm_input {
    entry *entries;
    size_t n, cap, next;
    size_t n_files, skipped;
    bool has_stream;
    char *source;
    size_t max_file, max_line;
    nm_jsonl_reader *reader; /* the JSON-lines input being read */
    int reader_fd;
    const char *reader_path;
    const char *error_class;
};

static void add_entry(nm_input *in, const char *path, const char *id, entry_kind kind, int err_no)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->entries = nm_xrealloc(in->entries, in->cap * sizeof *in->entries);
    }
    in->entries[in->n++] = (entry){nm_xstrdup(path), nm_xstrdup(id), kind, err_no};
    if (kind == ENTRY_TEXT || kind == ENTRY_HTML || kind == ENTRY_GUESS)
        in->n_files++;
    if (kind == ENTRY_JSONL || kind == ENTRY_STDIN)
        in->has_stream = true;
}

/* Kind of a file by extension; ENTRY_ERROR when it is not an article file. */
static entry_kind kind_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return ENTRY_ERROR;
    if (!strcasecmp(dot, ".txt"))
        return ENTRY_TEXT;
    if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
        return ENTRY_HTML;
    if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson"))
        return ENTRY_JSONL;
    return ENTRY_ERROR;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), len = la + strlen(b) + 2;
    char *out = nm_xmalloc(len);
    snprintf(out, len, "%s%s%s", a, la && a[la - 1] == '/' ? "" : "/", b);
    return out;
}

/* Adds the article files below dir; their ids are id_prefix/relative path. */
static void walk(nm_input *in, const char *dir, const char *id_prefix)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        add_entry(in, dir, dir, ENTRY_ERROR, errno);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            char *child = join(dir, name), *child_id = join(id_prefix, name);
            struct stat st, lst;
            if (lstat(child, &lst) != 0 || stat(child, &st) != 0) {
                add_entry(in, child, child_id, ENTRY_ERROR, errno);
            } else if (S_ISDIR(st.st_mode)) {
                if (!S_ISLNK(lst.st_mode))
                    walk(in, child, child_id);
            } else if (kind_of(name) == ENTRY_ERROR) {
                in->skipped++;
            } else {
                add_entry(in, child, child_id, kind_of(name), 0);
            }
            free(child);
            free(child_id);
        }
        free(names[i]);
    }
    free(names);
}

nm_input *nm_input_new(const char *const *paths, size_t n, const nm_input_config *cfg)
{
    nm_input *in = nm_xcalloc(1, sizeof *in);
    in->source = nm_xstrdup(cfg && cfg->source ? cfg->source : "file");
    in->max_file = cfg && cfg->max_file_bytes ? cfg->max_file_bytes : INPUT_MAX_FILE_DEFAULT;
    in->max_line = cfg ? cfg->max_line : 0;
    in->reader_fd = -1;
    for (size_t i = 0; i < n; i++) {
        const char *path = paths[i];
        while (path[0] == '.' && path[1] == '/' && path[2])
            path += 2;
        struct stat st;
        if (!strcmp(path, "-")) {
            add_entry(in, "-", "-", ENTRY_STDIN, 0);
        } else if (stat(path, &st) != 0) {
            add_entry(in, path, path, ENTRY_ERROR, errno);
        } else if (S_ISDIR(st.st_mode)) {
            char resolved[PATH_MAX], *base;
            if (realpath(path, resolved) && strcmp(resolved, "/")) {
                base = strrchr(resolved, '/') + 1;
            } else {
                base = resolved;
                snprintf(resolved, sizeof resolved, "%s", "root");
            }
            walk(in, path, base);
        } else {
            add_entry(in, path, path, kind_of(path) == ENTRY_ERROR ? ENTRY_GUESS : kind_of(path), 0);
        }
    }
    return in;
}

static void close_reader(nm_input *in)
{
    nm_jsonl_reader_destroy(&in->reader);
    if (in->reader_fd > STDERR_FILENO)
        close(in->reader_fd);
    in->reader_fd = -1;
}

void nm_input_destroy(nm_input **input)
{
    if (!input || !*input)
        return;
    nm_input *in = *input;
    close_reader(in);
    for (size_t i = 0; i < in->n; i++) {
        free(in->entries[i].path);
        free(in->entries[i].id);
    }
    free(in->entries);
    free(in->source);
    free(in);
    *input = NULL;
}

bool nm_input_ready(const nm_input *in, int timeout_ms)
{
    if (in->reader)
        return nm_jsonl_reader_ready(in->reader, timeout_ms);
    if (in->next < in->n && in->entries[in->next].kind == ENTRY_STDIN) { /* about to read it */
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&p, 1, timeout_ms);
        return n > 0 || (n < 0 && errno != EINTR);
    }
    return true;
}

const char *nm_input_error_class(const nm_input *in)
{
    return in->error_class ? in->error_class : "error";
}

size_t nm_input_file_count(const nm_input *in)
{
    return in->n_files;
}

int nm_input_total_known(const nm_input *in)
{
    return !in->has_stream;
}

size_t nm_input_skipped(const nm_input *in)
{
    return in->skipped;
}

static const char *errno_class(int e)
{
    switch (e) {
    case ENOENT: return "not found";
    case EACCES:
    case EPERM: return "permission denied";
    case EISDIR: return "is a directory";
    default: return "unreadable";
    }
}

static int file_error(nm_input *in, const char *path, int e, nm_error *err)
{
    in->error_class = errno_class(e);
    return nm_error_set(err, NM_ERR_IO, "%s: %s", path, strerror(e));
}

static char *abs_url(const char *path)
{
    char resolved[PATH_MAX];
    const char *abs = realpath(path, resolved) ? resolved : path;
    size_t len = strlen(abs) + 8;
    char *url = nm_xmalloc(len);
    snprintf(url, len, "file://%s", abs);
    return url;
}

/* Reads one article file. */
static int read_file_article(nm_input *in, const entry *e, Newsmill__Article **out, nm_error *err)
{
    int fd = open(e->path, O_RDONLY);
    if (fd < 0)
        return file_error(in, e->path, errno, err);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > in->max_file) {
        close(fd);
        in->error_class = "file too large";
        return nm_error_set(err, NM_ERR_TOO_LARGE, "%s: %lld bytes, more than the limit of %zu",
                            e->path, (long long)st.st_size, in->max_file);
    }
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536, len = 0;
    char *buf = nm_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = nm_xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            return file_error(in, e->path, saved, err);
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > in->max_file) {
            free(buf);
            close(fd);
            in->error_class = "file too large";
            return nm_error_set(err, NM_ERR_TOO_LARGE, "%s: more than the limit of %zu bytes",
                                e->path, in->max_file);
        }
    }
    close(fd);
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    if (i == len) {
        free(buf);
        in->error_class = "empty file";
        return nm_error_set(err, NM_ERR_EMPTY, "%s: empty file", e->path);
    }
    Newsmill__Article *a = nm_xmalloc(sizeof *a);
    newsmill__article__init(a);
    a->id = nm_xstrdup(e->id);
    a->url = abs_url(e->path);
    a->source = nm_xstrdup(in->source);
    a->language = nm_xstrdup("");
    a->content_type = e->kind == ENTRY_TEXT   ? NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT
                      : e->kind == ENTRY_HTML ? NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML
                                              : NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_UNSPECIFIED;
    a->body.data = (uint8_t *)buf;
    a->body.len = len;
    *out = a;
    return 0;
}

static const char *jsonl_class(nm_errcode code)
{
    switch (code) {
    case NM_ERR_TOO_LARGE: return "JSON line too long";
    case NM_ERR_UTF8: return "invalid UTF-8 in JSON line";
    case NM_ERR_INVALID: return "invalid field in JSON line";
    case NM_ERR_IO: return "read error";
    default: return "malformed JSON line";
    }
}

int nm_input_next(nm_input *in, Newsmill__Article **out, nm_error *err)
{
    *out = NULL;
    for (;;) {
        if (in->reader) {
            int rc = nm_jsonl_reader_next(in->reader, out, err);
            if (rc == 0 && *out)
                return 0;
            if (rc == 0 || (err && err->code == NM_ERR_IO))
                close_reader(in);
            if (rc < 0) {
                in->error_class = jsonl_class(err ? err->code : NM_ERR_MALFORMED);
                return nm_error_prefix(err, "%s", in->reader_path);
            }
            continue;
        }
        if (in->next == in->n)
            return 0;
        const entry *e = &in->entries[in->next++];
        switch (e->kind) {
        case ENTRY_ERROR:
            return file_error(in, e->path, e->err_no, err);
        case ENTRY_STDIN:
            in->reader_fd = STDIN_FILENO;
            in->reader_path = "stdin";
            in->reader = nm_jsonl_reader_new(STDIN_FILENO, in->max_line);
            continue;
        case ENTRY_JSONL:
            in->reader_fd = open(e->path, O_RDONLY);
            if (in->reader_fd < 0)
                return file_error(in, e->path, errno, err);
            in->reader_path = e->path;
            in->reader = nm_jsonl_reader_new(in->reader_fd, in->max_line);
            continue;
        default:
            return read_file_article(in, e, out, err);
        }
    }
}
