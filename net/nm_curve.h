/*
 * nm_curve: ZeroMQ CURVE security for newsmill's sockets — key files, the
 * allow-list of client public keys, the ZAP authenticator, socket setup.
 *
 * What CURVE gives: every byte between a client and a server that requires
 * it is encrypted and authenticated (CurveZMQ: Curve25519 keys, perfect
 * forward secrecy per connection), and the server accepts only clients whose
 * public key is in its allow-list. What it does not give: protection of the
 * data at rest (spool, results databases), of the collector's HTTP port, or
 * against a holder of an allowed client secret key.
 *
 * Key files (text, UTF-8, '#' comment lines):
 *   secret file (mode 0600)        .pub file (public; share it)
 *     # newsmill CURVE key pair      # newsmill CURVE public key
 *     public-key = <40 Z85 chars>    <40 Z85 chars>
 *     secret-key = <40 Z85 chars>
 * A .pub file is a valid allow-list, so `cat client.key.pub >> allow` adds a
 * client. Allow-list lines: a 40-character Z85 key, optionally followed by
 * whitespace and anything (a note); lines whose first token is not a key and
 * that start with '#' are comments; blank lines are ignored; anything else is
 * an error naming the line. (Z85 uses '#' and '=', hence the token rule; no
 * valid key starts with '#', so a comment is never mistaken for a key.)
 *
 * The authenticator is an actor thread in the server's ZeroMQ context: it
 * answers ZAP requests (inproc://zeromq.zap.01, RFC 27) with 200 for
 * allow-listed CURVE keys and 400 for everything else, and watches the server
 * sockets' handshake failures (a client without CURVE or with the wrong
 * server key never reaches ZAP). Every refusal is counted and logged as one
 * line "curve refused peer=... key=... reason=... socket=..."; repeats of the
 * same peer/key/reason within 10 s are folded into the next line's repeats=N
 * so a client retrying every 100 ms cannot flood the log. The allow-list file
 * is re-read when it changes (no restart needed to add or revoke a client).
 *
 * Programs use the bundle (nm_curve_opts + nm_curve): one flag set for all:
 *   --curve-secret FILE      this process's key pair (server and client roles)
 *   --curve-allow FILE       require CURVE on every socket this process serves,
 *                            accepting these client keys
 *   --curve-server-key FILE  connect with CURVE; FILE is the server's .pub
 */
#ifndef NM_CURVE_H
#define NM_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"

#define NM_CURVE_KEY_LEN 40 /* Z85 text of a 32-byte key */
#define NM_CURVE_KEY_BYTES 32
#define NM_CURVE_ZAP_DOMAIN "newsmill"

/* A key pair as Z85 text (NUL-terminated). A value type. */
typedef struct nm_curve_keypair {
    char public_key[NM_CURVE_KEY_LEN + 1];
    char secret_key[NM_CURVE_KEY_LEN + 1];
} nm_curve_keypair;

/* Returns 0 when this libzmq supports CURVE, else -1 (NM_ERR_INVALID) with
 * a message saying so. */
int nm_curve_available(nm_error *err);

/* Checks that text is a 40-character Z85 key and decodes it into raw (may be
 * NULL). Returns 0, or -1 with NM_ERR_MALFORMED saying what is wrong. */
int nm_curve_key_decode(const char *text, uint8_t raw[NM_CURVE_KEY_BYTES], nm_error *err);

/* Makes a fresh key pair (libsodium randomness). Returns 0, or -1. */
int nm_curve_keypair_new(nm_curve_keypair *kp, nm_error *err);

/* Writes the secret file at path (mode 0600) and path.pub (mode 0644), each
 * written to a temporary name, synced and renamed, so no half-written key is
 * ever seen. Refuses (NM_ERR_INVALID) when either exists and !overwrite.
 * On failure nothing is left behind. */
int nm_curve_keypair_save(const nm_curve_keypair *kp, const char *path, bool overwrite,
                          nm_error *err);

/* Reads a secret file. Fails (NM_ERR_NOT_FOUND, NM_ERR_IO, NM_ERR_MALFORMED)
 * when the file is missing, unreadable, lacks either key, a key is not Z85 of
 * the right length, or the public key is not the secret key's. Logs a warning
 * when the file is readable by group or others. */
int nm_curve_keypair_load(const char *path, nm_curve_keypair *kp, nm_error *err);

/* Reads a public key from a .pub file (a bare key line or "public-key = ";
 * a secret file works too, only its public key is taken). */
int nm_curve_public_load(const char *path, char key[NM_CURVE_KEY_LEN + 1], nm_error *err);

/* ---- allow-list ---- */

typedef struct nm_curve_allow nm_curve_allow;

/* Reads an allow-list file (format above). An empty list is valid (refuses
 * everyone). Returns NULL with err naming the file and line on failure.
 * Caller owns the result. */
nm_curve_allow *nm_curve_allow_load(const char *path, nm_error *err);

bool nm_curve_allow_contains(const nm_curve_allow *allow, const uint8_t key[NM_CURVE_KEY_BYTES]);
size_t nm_curve_allow_size(const nm_curve_allow *allow);

/* Accepts NULL; clears *allow. */
void nm_curve_allow_destroy(nm_curve_allow **allow);

/* ---- the ZAP authenticator (an actor thread) ---- */

typedef struct nm_curve_auth nm_curve_auth;

typedef struct nm_curve_auth_counts {
    uint64_t accepted;          /* ZAP requests answered 200 */
    uint64_t refused_key;       /* ZAP requests answered 400 (unknown key, not CURVE) */
    uint64_t refused_handshake; /* handshakes that failed before ZAP (no CURVE, wrong server key) */
} nm_curve_auth_counts;

/* Loads allow_path and starts the actor in zmq_ctx; returns after the actor
 * has bound the ZAP endpoint (start handshake), so server sockets made after
 * this call are authenticated from their first connection. Fails when the
 * allow-list does not load or another ZAP handler already serves this
 * context. Caller owns the result; stop it before zmq_ctx_term(). */
nm_curve_auth *nm_curve_auth_start(void *zmq_ctx, const char *allow_path, nm_error *err);

/* Watches sock's handshake failures (call from the thread that owns sock,
 * before or after bind). name labels the log lines ("front", "query").
 * At most 16 sockets per authenticator. */
int nm_curve_auth_watch(nm_curve_auth *auth, void *sock, const char *name, nm_error *err);

/* Counters so far (safe from any thread). */
void nm_curve_auth_counts_get(const nm_curve_auth *auth, nm_curve_auth_counts *out);

/* refused_key + refused_handshake. */
uint64_t nm_curve_auth_refused(const nm_curve_auth *auth);

/* Sends the stop message, joins the thread, frees; accepts NULL; clears *auth. */
void nm_curve_auth_stop(nm_curve_auth **auth);

/* ---- sockets ---- */

/* Makes sock a CURVE server with kp's secret key and the newsmill ZAP domain.
 * Call before bind. Returns 0, or -1 (NM_ERR_ZMQ). */
int nm_curve_server_setup(void *sock, const nm_curve_keypair *kp, nm_error *err);

/* Makes sock a CURVE client of the server whose public key is server_public,
 * authenticating as kp. Call before connect. Returns 0, or -1 (NM_ERR_ZMQ). */
int nm_curve_client_setup(void *sock, const char *server_public, const nm_curve_keypair *kp,
                          nm_error *err);

/* ---- the bundle programs use ---- */

/* What a program's flags say; all NULL (the default) = CURVE off. Strings
 * are borrowed (argv or nm_opts' kept copies). */
typedef struct nm_curve_opts {
    const char *secret_path;     /* --curve-secret */
    const char *allow_path;      /* --curve-allow */
    const char *server_key_path; /* --curve-server-key */
} nm_curve_opts;

/* nm_opt table entries; put them in a program's option array (where
 * nm_opts.h is included: CURVE itself does not depend on option parsing). */
#define NM_CURVE_OPT_SECRET(o)                                                                  \
    {"curve-secret", 0, NM_OPT_STRING, &(o).secret_path, "FILE",                               \
     "this process's CURVE key pair (newsmill keygen); off when unset", 0, 0}
#define NM_CURVE_OPT_ALLOW(o)                                                                   \
    {"curve-allow", 0, NM_OPT_STRING, &(o).allow_path, "FILE",                                 \
     "require CURVE on the sockets this serves; FILE lists allowed client public keys", 0, 0}
#define NM_CURVE_OPT_SERVER_KEY(o)                                                              \
    {"curve-server-key", 0, NM_OPT_STRING, &(o).server_key_path, "FILE",                       \
     "connect with CURVE; FILE is the server's public key (.pub)", 0, 0}

typedef struct nm_curve nm_curve;

/* Loads what opts name and starts the authenticator in zmq_ctx when
 * allow_path is set (zmq_ctx may be NULL in a program that only connects).
 * On success *out is the caller's, or NULL when every path is unset (CURVE
 * off; every nm_curve_* call below accepts NULL and does nothing). Fails
 * with NM_ERR_INVALID when the combination makes no sense (--curve-allow or
 * --curve-server-key without --curve-secret, --curve-secret alone) and with
 * the load errors above. Destroy before zmq_ctx_term(). */
int nm_curve_new(void *zmq_ctx, const nm_curve_opts *opts, nm_curve **out, nm_error *err);

/* True when this process's server sockets require CURVE. */
bool nm_curve_serving(const nm_curve *curve);

/* True when this process connects with CURVE. */
bool nm_curve_connecting(const nm_curve *curve);

/* Server side: when serving, makes sock a CURVE server and watches it
 * (name labels logs); else nothing. Call before bind. */
int nm_curve_apply_server(nm_curve *curve, void *sock, const char *name, nm_error *err);

/* Client side: when connecting, makes sock a CURVE client; else nothing.
 * Call before connect. */
int nm_curve_apply_client(const nm_curve *curve, void *sock, nm_error *err);

/* How nm_curve_client_socket makes a client socket. */
typedef struct nm_client_socket_opts {
    const char *role; /* names the socket in errors: "producer" */
    const char *peer; /* names the endpoint in errors: "queue" */
    int hwm;          /* send and receive high-water marks; 0: ZeroMQ's default */
    bool immediate;   /* ZMQ_IMMEDIATE: queue messages only on completed connections */
} nm_client_socket_opts;

/* A DEALER socket in ctx connected to endpoint, with linger 0, the options
 * of opts, and CURVE when curve (may be NULL) is connecting. Returns the
 * socket (caller closes it with zmq_close), or NULL with err set. */
void *nm_curve_client_socket(void *ctx, const char *endpoint, const nm_curve *curve,
                             const nm_client_socket_opts *opts, nm_error *err);

/* Refusals so far (0 when not serving). */
uint64_t nm_curve_refused(const nm_curve *curve);

/* Clients accepted (allow-listed key) and connections refused (unknown key,
 * no CURVE, wrong server key) so far; both 0 when not serving. Reported as
 * metrics by nm_stats_curve_report. */
void nm_curve_counts(const nm_curve *curve, uint64_t *accepted, uint64_t *refused);

/* Stops the authenticator; accepts NULL; clears *curve. */
void nm_curve_destroy(nm_curve **curve);

#endif
