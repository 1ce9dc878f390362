/*
 * nm_error: the one error convention of newsmill.
 *
 * A function that can fail returns 0 on success and -1 on failure, and fills
 * the caller's nm_error (when the pointer is not NULL) with a code and a
 * message that carries context ("opening spool ./var/queue.db: disk I/O
 * error"). Results travel through pointer arguments. Callers add context on
 * the way up with nm_error_prefix(). nm_error is a small value type: put it on
 * the stack, no allocation, nothing to free.
 */
#ifndef NM_ERROR_H
#define NM_ERROR_H

#include <stddef.h>

/* Class of an error; stable names for logs and stats (nm_errcode_name). */
typedef enum nm_errcode {
    NM_OK = 0,
    NM_ERR_INVALID,      /* bad argument, flag or configuration */
    NM_ERR_MALFORMED,    /* input bytes do not parse */
    NM_ERR_VERSION,      /* unsupported protocol or schema version */
    NM_ERR_UNKNOWN_TYPE, /* message type this peer does not know */
    NM_ERR_TOO_LARGE,    /* input exceeds a configured limit */
    NM_ERR_EMPTY,        /* input is empty */
    NM_ERR_UTF8,         /* text is not valid UTF-8 */
    NM_ERR_IO,           /* file or socket I/O failed */
    NM_ERR_DB,           /* SQLite reported an error */
    NM_ERR_BUSY,         /* resource busy; retrying may succeed */
    NM_ERR_DISK_FULL,    /* no space left; retrying later may succeed */
    NM_ERR_TIMEOUT,      /* no answer in time */
    NM_ERR_NOT_FOUND,    /* the thing asked for does not exist */
    NM_ERR_FULL,         /* a configured capacity is reached */
    NM_ERR_UNAUTHORIZED, /* peer not allowed */
    NM_ERR_ZMQ,          /* ZeroMQ call failed */
    NM_ERR_INTERNAL,     /* invariant broken; a bug */
    NM_ERRCODE_COUNT
} nm_errcode;

typedef struct nm_error {
    nm_errcode code;
    char msg[512];
} nm_error;

/* Resets *err to "no error". err may be NULL. */
void nm_error_clear(nm_error *err);

/* Sets code and printf-style message; always returns -1 so that a failing
 * function can `return nm_error_set(err, ...)`. err may be NULL. */
int nm_error_set(nm_error *err, nm_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends printf-style context and ": " to the message, keeping the code.
 * Always returns -1. err may be NULL. */
int nm_error_prefix(nm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stable lower-case name of a code ("disk-full"); never NULL. */
const char *nm_errcode_name(nm_errcode code);

#endif
