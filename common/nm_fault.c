/* nm_fault: see nm_fault.h. */
#include "nm_fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_log.h"

bool nm_fault_armed;

typedef enum { FAULT_KILL, FAULT_STOP, FAULT_ABORT, FAULT_CRASH_ON_ID } fault_action;

/* Every point in the code, so that a misspelt NM_FAULT fails loudly. */
static const struct {
    const char *name;
    bool takes_id;
} known_points[] = {
    {"worker.extract", true},       {"writer.before_begin", false},
    {"writer.after_puts", false},   {"store.commit", false},
    {"writer.after_commit", false},
};

#define MAX_ARMED 8

static struct {
    char point[64];
    fault_action action;
    char id[256];
} armed[MAX_ARMED];
static size_t n_armed;

static int parse_one(const char *spec, size_t len, nm_error *err)
{
    char buf[400];
    if (len >= sizeof buf || n_armed == MAX_ARMED)
        return nm_error_set(err, NM_ERR_INVALID, "NM_FAULT: too long or more than %d points",
                            MAX_ARMED);
    memcpy(buf, spec, len);
    buf[len] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon)
        return nm_error_set(err, NM_ERR_INVALID, "NM_FAULT: '%s' is not POINT:ACTION", buf);
    *colon = '\0';
    const char *point = buf, *action = colon + 1;
    size_t k = 0, n_known = sizeof known_points / sizeof *known_points;
    while (k < n_known && strcmp(known_points[k].name, point) != 0)
        k++;
    if (k == n_known)
        return nm_error_set(err, NM_ERR_INVALID, "NM_FAULT: unknown point '%s'", point);
    fault_action a;
    const char *id = "";
    if (strcmp(action, "kill") == 0)
        a = FAULT_KILL;
    else if (strcmp(action, "stop") == 0)
        a = FAULT_STOP;
    else if (strcmp(action, "abort") == 0)
        a = FAULT_ABORT;
    else if (strncmp(action, "crash-on-id=", 12) == 0 && known_points[k].takes_id && action[12]) {
        a = FAULT_CRASH_ON_ID;
        id = action + 12;
    } else
        return nm_error_set(err, NM_ERR_INVALID,
                            "NM_FAULT: action '%s' for %s (expected kill, stop, abort%s)", action,
                            point, known_points[k].takes_id ? " or crash-on-id=ID" : "");
    snprintf(armed[n_armed].point, sizeof armed[n_armed].point, "%s", point);
    snprintf(armed[n_armed].id, sizeof armed[n_armed].id, "%s", id);
    armed[n_armed].action = a;
    n_armed++;
    return 0;
}

int nm_fault_init(nm_error *err)
{
    n_armed = 0;
    nm_fault_armed = false;
    const char *env = getenv("NM_FAULT");
    if (!env || !*env)
        return 0;
    for (const char *p = env; *p;) {
        size_t len = strcspn(p, ",");
        if (len && parse_one(p, len, err) < 0) {
            n_armed = 0;
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    nm_fault_armed = n_armed > 0;
    if (nm_fault_armed)
        nm_log_warn("FAULT INJECTION ARMED (NM_FAULT=%s): this process will stop or crash on"
                    " purpose; never set NM_FAULT outside tests",
                    env);
    return 0;
}

void nm_fault_fire(const char *point, const char *id)
{
    for (size_t i = 0; i < n_armed; i++) {
        if (strcmp(armed[i].point, point) != 0)
            continue;
        switch (armed[i].action) {
        case FAULT_KILL:
            nm_log_warn("fault point %s: killing this process", point);
            raise(SIGKILL);
            break;
        case FAULT_STOP:
            nm_log_warn("fault point %s: stopping this process", point);
            raise(SIGSTOP);
            break;
        case FAULT_ABORT:
            nm_log_warn("fault point %s: aborting", point);
            abort();
        case FAULT_CRASH_ON_ID:
            if (id && strcmp(id, armed[i].id) == 0) {
                nm_log_warn("fault point %s: crashing on article id=%s", point, id);
                abort();
            }
            break;
        }
    }
}
