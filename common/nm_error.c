#include "nm_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const errcode_names[NM_ERRCODE_COUNT] = {
    [NM_OK] = "ok",
    [NM_ERR_INVALID] = "invalid",
    [NM_ERR_MALFORMED] = "malformed",
    [NM_ERR_VERSION] = "bad-version",
    [NM_ERR_UNKNOWN_TYPE] = "unknown-type",
    [NM_ERR_TOO_LARGE] = "too-large",
    [NM_ERR_EMPTY] = "empty",
    [NM_ERR_UTF8] = "invalid-utf8",
    [NM_ERR_IO] = "io",
    [NM_ERR_DB] = "db",
    [NM_ERR_BUSY] = "busy",
    [NM_ERR_DISK_FULL] = "disk-full",
    [NM_ERR_TIMEOUT] = "timeout",
    [NM_ERR_NOT_FOUND] = "not-found",
    [NM_ERR_FULL] = "full",
    [NM_ERR_UNAUTHORIZED] = "unauthorized",
    [NM_ERR_ZMQ] = "zmq",
    [NM_ERR_INTERNAL] = "internal",
};

void nm_error_clear(nm_error *err)
{
    if (err) {
        err->code = NM_OK;
        err->msg[0] = '\0';
    }
}

int nm_error_set(nm_error *err, nm_errcode code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int nm_error_prefix(nm_error *err, const char *fmt, ...)
{
    if (err) {
        char prefix[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        /* Result: prefix + ": " + old message, truncated to fit. */
        size_t cap = sizeof err->msg - 1;
        size_t plen = strlen(prefix), olen = strlen(err->msg);
        size_t sep = olen ? 2 : 0;
        if (plen > cap)
            plen = cap;
        if (plen + sep > cap)
            sep = cap - plen;
        if (plen + sep + olen > cap)
            olen = cap - plen - sep;
        memmove(err->msg + plen + sep, err->msg, olen);
        memcpy(err->msg, prefix, plen);
        memcpy(err->msg + plen, ": ", sep);
        err->msg[plen + sep + olen] = '\0';
    }
    return -1;
}

const char *nm_errcode_name(nm_errcode code)
{
    if ((unsigned)code >= NM_ERRCODE_COUNT || !errcode_names[code])
        return "unknown";
    return errcode_names[code];
}
