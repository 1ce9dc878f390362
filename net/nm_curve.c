#include "nm_curve.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_fs.h"
#include "nm_log.h"

#define KEY_FILE_MAX (64 * 1024)
#define ALLOW_FILE_MAX (16 * 1024 * 1024)

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";

int nm_curve_available(nm_error *err)
{
    if (!zmq_has("curve"))
        return nm_error_set(err, NM_ERR_INVALID,
                            "this libzmq was built without CURVE support (zmq_has(\"curve\") is false)");
    return 0;
}

int nm_curve_key_decode(const char *text, uint8_t raw[NM_CURVE_KEY_BYTES], nm_error *err)
{
    size_t len = strlen(text);
    if (len != NM_CURVE_KEY_LEN)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "key is %zu characters; a Z85 CURVE key is %d", len, NM_CURVE_KEY_LEN);
    for (size_t i = 0; i < len; i++) {
        if (!strchr(z85_alphabet, text[i])) /* text[i] is never NUL here */
            return nm_error_set(err, NM_ERR_MALFORMED,
                                "key is not Z85: character %zu (byte 0x%02x) is outside the alphabet",
                                i + 1, (unsigned char)text[i]);
    }
    uint8_t tmp[NM_CURVE_KEY_BYTES];
    if (!zmq_z85_decode(tmp, text))
        return nm_error_set(err, NM_ERR_MALFORMED, "key is not valid Z85 (a group is out of range)");
    if (raw)
        memcpy(raw, tmp, sizeof tmp);
    return 0;
}

int nm_curve_keypair_new(nm_curve_keypair *kp, nm_error *err)
{
    if (nm_curve_available(err))
        return -1;
    if (zmq_curve_keypair(kp->public_key, kp->secret_key) != 0)
        return nm_error_set(err, NM_ERR_ZMQ, "making a CURVE key pair: %s", zmq_strerror(zmq_errno()));
    return 0;
}

/* ---- files ---- */

/* Reads a whole small file, NUL-terminated. */
static char *read_small_file(const char *path, size_t max, const char *what, struct stat *st,
                             nm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            nm_error_set(err, NM_ERR_NOT_FOUND, "%s %s does not exist", what, path);
        else
            nm_error_set(err, NM_ERR_IO, "opening %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || (size_t)st->st_size > max) {
        nm_error_set(err, NM_ERR_INVALID, "%s %s is not a regular file of at most %zu bytes", what,
                     path, max);
        close(fd);
        return NULL;
    }
    char *buf = nm_xmalloc((size_t)st->st_size + 1);
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    if (strlen(buf) != got) {
        nm_error_set(err, NM_ERR_MALFORMED, "%s %s contains a NUL byte", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Splits buf in place into lines; calls fn(line, lineno) with each trimmed
 * line (possibly empty) until fn returns non-zero. */
static int for_each_line(char *buf, int (*fn)(char *line, int lineno, void *arg), void *arg)
{
    int lineno = 0;
    char *p = buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        lineno++;
        while (is_space(*p))
            p++;
        char *e = p + strlen(p);
        while (e > p && is_space(e[-1]))
            *--e = '\0';
        int rc = fn(p, lineno, arg);
        if (rc)
            return rc;
        p = next;
    }
    return 0;
}

/* First whitespace-delimited token of line, copied into tok (at most cap-1). */
static size_t first_token(const char *line, char *tok, size_t cap)
{
    size_t n = 0;
    while (line[n] && !is_space(line[n]))
        n++;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(tok, line, k);
    tok[k] = '\0';
    return n;
}

/* True when the line's first token is a valid key (copied into key). */
static bool line_is_key(const char *line, char key[NM_CURVE_KEY_LEN + 1])
{
    char tok[NM_CURVE_KEY_LEN + 2];
    size_t n = first_token(line, tok, sizeof tok);
    if (n != NM_CURVE_KEY_LEN || nm_curve_key_decode(tok, NULL, NULL) != 0)
        return false;
    memcpy(key, tok, NM_CURVE_KEY_LEN + 1);
    return true;
}

typedef struct key_file_parse {
    const char *path;
    char public_key[NM_CURVE_KEY_LEN + 1];
    char secret_key[NM_CURVE_KEY_LEN + 1];
    bool has_public, has_secret;
    nm_error *err;
} key_file_parse;

/* "name = value" with name one of public-key / secret-key. Returns the
 * value (trimmed) or NULL when line is not such a line. */
static const char *named_value(char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return NULL;
    char *p = line + n;
    while (is_space(*p))
        p++;
    if (*p != '=')
        return NULL;
    p++;
    while (is_space(*p))
        p++;
    return p;
}

static int key_file_line(char *line, int lineno, void *arg)
{
    key_file_parse *kf = arg;
    if (!*line)
        return 0;
    const char *names[2] = {"public-key", "secret-key"};
    for (int i = 0; i < 2; i++) {
        const char *v = named_value(line, names[i]);
        if (!v)
            continue;
        if (nm_curve_key_decode(v, NULL, kf->err))
            return nm_error_prefix(kf->err, "%s:%d: %s", kf->path, lineno, names[i]);
        memcpy(i ? kf->secret_key : kf->public_key, v, NM_CURVE_KEY_LEN + 1);
        *(i ? &kf->has_secret : &kf->has_public) = true;
        return 0;
    }
    char key[NM_CURVE_KEY_LEN + 1];
    if (line_is_key(line, key)) {
        if (!kf->has_public) {
            memcpy(kf->public_key, key, sizeof key);
            kf->has_public = true;
        }
        return 0;
    }
    if (line[0] == '#')
        return 0;
    char tok[NM_CURVE_KEY_LEN + 2];
    size_t n = first_token(line, tok, sizeof tok);
    if (n == NM_CURVE_KEY_LEN)
        nm_curve_key_decode(tok, NULL, kf->err);
    else
        nm_error_set(kf->err, NM_ERR_MALFORMED,
                     "not a key line (expected 'public-key = KEY', 'secret-key = KEY' or a "
                     "%d-character Z85 key; the first word has %zu characters)",
                     NM_CURVE_KEY_LEN, n);
    return nm_error_prefix(kf->err, "%s:%d", kf->path, lineno);
}

static int parse_key_file(const char *path, const char *what, key_file_parse *kf, struct stat *st,
                          nm_error *err)
{
    memset(kf, 0, sizeof *kf);
    kf->path = path;
    kf->err = err;
    char *buf = read_small_file(path, KEY_FILE_MAX, what, st, err);
    if (!buf) {
        if (err && err->code == NM_ERR_NOT_FOUND)
            nm_error_prefix(err, "CURVE");
        return -1;
    }
    size_t len = strlen(buf);
    int rc = for_each_line(buf, key_file_line, kf);
    sodium_memzero(buf, len); /* it held a secret key */
    free(buf);
    return rc ? -1 : 0;
}

int nm_curve_keypair_load(const char *path, nm_curve_keypair *kp, nm_error *err)
{
    key_file_parse kf;
    struct stat st;
    if (parse_key_file(path, "key pair file", &kf, &st, err))
        return -1;
    if (!kf.has_secret)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "%s has no 'secret-key = ' line (is it a .pub file? pass the key pair "
                            "file newsmill keygen wrote without .pub)", path);
    char derived[NM_CURVE_KEY_LEN + 1];
    if (zmq_curve_public(derived, kf.secret_key) != 0)
        return nm_error_set(err, NM_ERR_ZMQ, "%s: deriving the public key: %s", path,
                            zmq_strerror(zmq_errno()));
    if (kf.has_public && strcmp(derived, kf.public_key) != 0)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "%s: public-key does not belong to secret-key (file edited or mixed up)",
                            path);
    if (st.st_mode & 077)
        nm_log_warn("curve secret key file is readable by others path=%s mode=%04o "
                    "(run: chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
    memcpy(kp->public_key, derived, sizeof derived);
    memcpy(kp->secret_key, kf.secret_key, sizeof kf.secret_key);
    sodium_memzero(&kf, sizeof kf);
    return 0;
}

int nm_curve_public_load(const char *path, char key[NM_CURVE_KEY_LEN + 1], nm_error *err)
{
    key_file_parse kf;
    struct stat st;
    if (parse_key_file(path, "public key file", &kf, &st, err))
        return -1;
    if (!kf.has_public && kf.has_secret)
        kf.has_public = zmq_curve_public(kf.public_key, kf.secret_key) == 0;
    sodium_memzero(kf.secret_key, sizeof kf.secret_key);
    if (!kf.has_public)
        return nm_error_set(err, NM_ERR_MALFORMED, "%s holds no public key", path);
    memcpy(key, kf.public_key, NM_CURVE_KEY_LEN + 1);
    return 0;
}

/* Writes data to path via path.tmp.PID: create exclusively with mode,
 * write, fsync, rename, fsync the directory (the renamed entry is what
 * survives a power cut). */
static int write_file_atomic(const char *path, const char *data, mode_t mode, nm_error *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return nm_error_set(err, NM_ERR_INVALID, "path %s is too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return nm_error_set(err, NM_ERR_IO, "creating %s: %s", tmp, strerror(errno));
    size_t len = strlen(data), done = 0;
    int ok = fchmod(fd, mode) == 0;
    while (ok && done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            done += (size_t)n;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return nm_error_set(err, saved == ENOSPC ? NM_ERR_DISK_FULL : NM_ERR_IO, "writing %s: %s",
                            path, strerror(saved));
    }
    return nm_fs_sync_parent(path, err);
}

int nm_curve_keypair_save(const nm_curve_keypair *kp, const char *path, bool overwrite,
                          nm_error *err)
{
    char pub_path[4096];
    if ((size_t)snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= sizeof pub_path)
        return nm_error_set(err, NM_ERR_INVALID, "path %s is too long", path);
    if (nm_curve_key_decode(kp->public_key, NULL, err) || nm_curve_key_decode(kp->secret_key, NULL, err))
        return nm_error_prefix(err, "saving key pair %s", path);
    struct stat st;
    if (!overwrite && (lstat(path, &st) == 0 || lstat(pub_path, &st) == 0))
        return nm_error_set(err, NM_ERR_INVALID, "%s or %s already exists; not overwriting a key",
                            path, pub_path);
    char secret_text[512], public_text[256];
    snprintf(secret_text, sizeof secret_text,
             "# newsmill CURVE key pair (written by newsmill keygen). Keep this file private:\n"
             "# whoever holds secret-key can act as this server or client.\n"
             "public-key = %s\n"
             "secret-key = %s\n",
             kp->public_key, kp->secret_key);
    snprintf(public_text, sizeof public_text,
             "# newsmill CURVE public key (share it; append client keys to a server's allow-list)\n"
             "%s\n",
             kp->public_key);
    if (write_file_atomic(path, secret_text, 0600, err)) {
        sodium_memzero(secret_text, sizeof secret_text);
        return -1;
    }
    sodium_memzero(secret_text, sizeof secret_text);
    if (write_file_atomic(pub_path, public_text, 0644, err)) {
        unlink(path);
        return -1;
    }
    return 0;
}

/* ---- allow-list ---- */

struct nm_curve_allow {
    uint8_t (*keys)[NM_CURVE_KEY_BYTES]; /* sorted, unique */
    size_t n, cap;
};

typedef struct allow_parse {
    const char *path;
    nm_curve_allow *allow;
    nm_error *err;
} allow_parse;

static int allow_line(char *line, int lineno, void *arg)
{
    allow_parse *ap = arg;
    if (!*line)
        return 0;
    char key[NM_CURVE_KEY_LEN + 1];
    const char *v = named_value(line, "public-key");
    if (v) {
        if (nm_curve_key_decode(v, NULL, ap->err))
            return nm_error_prefix(ap->err, "allow-list %s:%d", ap->path, lineno);
        memcpy(key, v, sizeof key);
    } else if (!line_is_key(line, key)) {
        if (line[0] == '#')
            return 0;
        char tok[NM_CURVE_KEY_LEN + 2];
        size_t n = first_token(line, tok, sizeof tok);
        if (n == NM_CURVE_KEY_LEN)
            nm_curve_key_decode(tok, NULL, ap->err);
        else
            nm_error_set(ap->err, NM_ERR_MALFORMED,
                         "expected a %d-character Z85 public key, the first word has %zu characters",
                         NM_CURVE_KEY_LEN, n);
        return nm_error_prefix(ap->err, "allow-list %s:%d", ap->path, lineno);
    }
    nm_curve_allow *a = ap->allow;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->keys = nm_xrealloc(a->keys, a->cap * sizeof *a->keys);
    }
    zmq_z85_decode(a->keys[a->n++], key);
    return 0;
}

static int key_cmp(const void *x, const void *y)
{
    return memcmp(x, y, NM_CURVE_KEY_BYTES);
}

nm_curve_allow *nm_curve_allow_load(const char *path, nm_error *err)
{
    struct stat st;
    char *buf = read_small_file(path, ALLOW_FILE_MAX, "CURVE allow-list", &st, err);
    if (!buf)
        return NULL;
    nm_curve_allow *a = nm_xcalloc(1, sizeof *a);
    allow_parse ap = {path, a, err};
    int rc = for_each_line(buf, allow_line, &ap);
    free(buf);
    if (rc) {
        nm_curve_allow_destroy(&a);
        return NULL;
    }
    if (a->n) {
        qsort(a->keys, a->n, sizeof *a->keys, key_cmp);
        size_t w = 1;
        for (size_t r = 1; r < a->n; r++) {
            if (memcmp(a->keys[r], a->keys[w - 1], NM_CURVE_KEY_BYTES) != 0)
                memcpy(a->keys[w++], a->keys[r], NM_CURVE_KEY_BYTES);
        }
        a->n = w;
    }
    return a;
}

bool nm_curve_allow_contains(const nm_curve_allow *allow, const uint8_t key[NM_CURVE_KEY_BYTES])
{
    return allow && allow->n && bsearch(key, allow->keys, allow->n, sizeof *allow->keys, key_cmp);
}

size_t nm_curve_allow_size(const nm_curve_allow *allow)
{
    return allow ? allow->n : 0;
}

void nm_curve_allow_destroy(nm_curve_allow **allow)
{
    if (allow && *allow) {
        free((*allow)->keys);
        free(*allow);
        *allow = NULL;
    }
}

/* ---- sockets ---- */

static int zmq_fail(nm_error *err, const char *what)
{
    return nm_error_set(err, NM_ERR_ZMQ, "%s: %s", what, zmq_strerror(zmq_errno()));
}

int nm_curve_server_setup(void *sock, const nm_curve_keypair *kp, nm_error *err)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_key, NM_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, NM_CURVE_ZAP_DOMAIN, strlen(NM_CURVE_ZAP_DOMAIN)) != 0)
        return zmq_fail(err, "making a CURVE server socket");
    return 0;
}

int nm_curve_client_setup(void *sock, const char *server_public, const nm_curve_keypair *kp,
                          nm_error *err)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, NM_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_key, NM_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_key, NM_CURVE_KEY_LEN + 1) != 0)
        return zmq_fail(err, "making a CURVE client socket");
    return 0;
}

/* ---- the bundle ---- */

struct nm_curve {
    nm_curve_keypair own;
    char server_public[NM_CURVE_KEY_LEN + 1];
    bool connecting;
    nm_curve_auth *auth; /* set when serving */
};

static bool set(const char *s)
{
    return s && *s;
}

int nm_curve_new(void *zmq_ctx, const nm_curve_opts *opts, nm_curve **out, nm_error *err)
{
    *out = NULL;
    bool secret = set(opts->secret_path), allow = set(opts->allow_path),
         server_key = set(opts->server_key_path);
    if (!secret && !allow && !server_key)
        return 0;
    if (!secret)
        return nm_error_set(err, NM_ERR_INVALID,
                            "--%s needs --curve-secret FILE (this process's key pair; make one "
                            "with newsmill keygen)", allow ? "curve-allow" : "curve-server-key");
    if (!allow && !server_key)
        return nm_error_set(err, NM_ERR_INVALID,
                            "--curve-secret alone does nothing: add --curve-allow FILE to require "
                            "CURVE on the sockets this serves, or --curve-server-key FILE to "
                            "connect with CURVE");
    if (allow && !zmq_ctx)
        return nm_error_set(err, NM_ERR_INVALID, "--curve-allow: this program serves no socket");
    if (nm_curve_available(err))
        return -1;
    nm_curve *c = nm_xcalloc(1, sizeof *c);
    if (nm_curve_keypair_load(opts->secret_path, &c->own, err))
        goto fail;
    if (server_key) {
        if (nm_curve_public_load(opts->server_key_path, c->server_public, err))
            goto fail;
        c->connecting = true;
    }
    if (allow && !(c->auth = nm_curve_auth_start(zmq_ctx, opts->allow_path, err)))
        goto fail;
    nm_log_info("curve on public_key=%.8s... serving=%s connecting=%s", c->own.public_key,
                allow ? "yes" : "no", server_key ? "yes" : "no");
    *out = c;
    return 0;
fail:
    free(c);
    return -1;
}

bool nm_curve_serving(const nm_curve *curve)
{
    return curve && curve->auth;
}

bool nm_curve_connecting(const nm_curve *curve)
{
    return curve && curve->connecting;
}

int nm_curve_apply_server(nm_curve *curve, void *sock, const char *name, nm_error *err)
{
    if (!nm_curve_serving(curve))
        return 0;
    if (nm_curve_server_setup(sock, &curve->own, err))
        return -1;
    return nm_curve_auth_watch(curve->auth, sock, name, err);
}

int nm_curve_apply_client(const nm_curve *curve, void *sock, nm_error *err)
{
    if (!nm_curve_connecting(curve))
        return 0;
    return nm_curve_client_setup(sock, curve->server_public, &curve->own, err);
}

void *nm_curve_client_socket(void *ctx, const char *endpoint, const nm_curve *curve,
                             const nm_client_socket_opts *opts, nm_error *err)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!sock) {
        nm_error_set(err, NM_ERR_ZMQ, "%s socket: %s", opts->role, zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 0, immediate = opts->immediate;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (opts->immediate)
        zmq_setsockopt(sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    if (opts->hwm > 0) {
        zmq_setsockopt(sock, ZMQ_SNDHWM, &opts->hwm, sizeof opts->hwm);
        zmq_setsockopt(sock, ZMQ_RCVHWM, &opts->hwm, sizeof opts->hwm);
    }
    if (nm_curve_apply_client(curve, sock, err) != 0) {
        zmq_close(sock);
        return NULL;
    }
    if (zmq_connect(sock, endpoint) != 0) {
        nm_error_set(err, NM_ERR_INVALID, "%s endpoint '%s': %s", opts->peer, endpoint,
                     zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

uint64_t nm_curve_refused(const nm_curve *curve)
{
    return nm_curve_serving(curve) ? nm_curve_auth_refused(curve->auth) : 0;
}

void nm_curve_counts(const nm_curve *curve, uint64_t *accepted, uint64_t *refused)
{
    *accepted = *refused = 0;
    if (!nm_curve_serving(curve))
        return;
    nm_curve_auth_counts c;
    nm_curve_auth_counts_get(curve->auth, &c);
    *accepted = c.accepted;
    *refused = c.refused_key + c.refused_handshake;
}

void nm_curve_destroy(nm_curve **curve)
{
    if (curve && *curve) {
        nm_curve_auth_stop(&(*curve)->auth);
        sodium_memzero((*curve)->own.secret_key, sizeof (*curve)->own.secret_key);
        free(*curve);
        *curve = NULL;
    }
}
