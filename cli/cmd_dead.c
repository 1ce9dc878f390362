/* newsmill dead: list dead letters with every failure, or requeue them. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cli.h"
#include "nm_curve.h"
#include "nm_opts.h"
#include "nm_producer.h"
#include "nm_protocol.h"
#include "nm_time.h"

typedef struct dead_opts {
    const char *queue, *id;
    int64_t limit, timeout_ms;
    bool json, requeue, all;
} dead_opts;

static const char *iso(int64_t ms, char *buf, size_t size)
{
    return ms ? nm_time_format_iso(ms, buf, size) : "-";
}

static void print_json_list(const Newsmill__DeadList *list)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64((int64_t)list->total));
    json_object *arr = json_object_new_array();
    char t[40];
    for (size_t i = 0; i < list->n_dead; i++) {
        const Newsmill__DeadLetter *d = list->dead[i];
        json_object *x = json_object_new_object();
        json_object_object_add(x, "id", json_object_new_string(d->id));
        json_object_object_add(x, "source", json_object_new_string(d->source));
        json_object_object_add(x, "url", json_object_new_string(d->url));
        json_object_object_add(x, "attempts", json_object_new_int64(d->attempts));
        json_object_object_add(x, "dead_at", json_object_new_string(iso(d->dead_unix_ms, t, sizeof t)));
        json_object *fails = json_object_new_array();
        for (size_t k = 0; k < d->n_failures; k++) {
            const Newsmill__FailureRecord *f = d->failures[k];
            json_object *y = json_object_new_object();
            json_object_object_add(y, "at", json_object_new_string(iso(f->at_unix_ms, t, sizeof t)));
            json_object_object_add(y, "attempt", json_object_new_int64(f->attempt));
            json_object_object_add(y, "reason", json_object_new_string(f->reason));
            json_object_object_add(y, "worker", json_object_new_string(f->worker));
            json_object_array_add(fails, y);
        }
        json_object_object_add(x, "failures", fails);
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "dead", arr);
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void print_list(const Newsmill__DeadList *list)
{
    if (list->n_dead == 0) {
        printf("no dead letters\n");
        return;
    }
    printf("%llu dead letter%s", (unsigned long long)list->total, list->total == 1 ? "" : "s");
    if (list->n_dead < list->total)
        printf(" (newest %zu shown; --limit for more)", list->n_dead);
    printf("\n\n");
    char t[40];
    for (size_t i = 0; i < list->n_dead; i++) {
        const Newsmill__DeadLetter *d = list->dead[i];
        printf("%s\n  source %s  attempts %u  dead since %s\n", d->id,
               d->source[0] ? d->source : "-", d->attempts, iso(d->dead_unix_ms, t, sizeof t));
        if (d->url[0])
            printf("  url %s\n", d->url);
        for (size_t k = 0; k < d->n_failures; k++) {
            const Newsmill__FailureRecord *f = d->failures[k];
            printf("  %2zu. %s  attempt %u  %s: %s\n", k + 1, iso(f->at_unix_ms, t, sizeof t),
                   f->attempt, f->worker[0] ? f->worker : "?", f->reason);
        }
        printf("\n");
    }
}

static int requeue(nm_producer *p, const dead_opts *o, char **ids, size_t n)
{
    Newsmill__RequeueReply *reply;
    nm_error err;
    if (nm_producer_requeue(p, (const char *const *)ids, n, o->all, &reply, &err) != 0) {
        fprintf(stderr, "newsmill dead: %s\n", err.msg);
        return err.code == NM_ERR_TIMEOUT ? NM_EXIT_UNAVAILABLE : NM_EXIT_FAILURE;
    }
    int code = reply->n_not_found ? NM_EXIT_PARTIAL : NM_EXIT_OK;
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "requeued", json_object_new_int64(reply->requeued));
        json_object *nf = json_object_new_array();
        for (size_t i = 0; i < reply->n_not_found; i++)
            json_object_array_add(nf, json_object_new_string(reply->not_found[i]));
        json_object_object_add(j, "not_found", nf);
        puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
        json_object_put(j);
    } else {
        printf("requeued %u dead letter%s\n", reply->requeued, reply->requeued == 1 ? "" : "s");
        for (size_t i = 0; i < reply->n_not_found; i++)
            fprintf(stderr, "newsmill dead: %s is not a dead letter\n", reply->not_found[i]);
    }
    nm_producer_requeue_free(&reply);
    return code;
}

int nm_cmd_dead(int argc, char **argv)
{
    dead_opts o = {.queue = NM_QUEUE_FRONT_ENDPOINT_DEFAULT,
                   .id = "",
                   .limit = 100,
                   .timeout_ms = NM_PRODUCER_TIMEOUT_MS_DEFAULT};
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"queue", 'q', NM_OPT_STRING, &o.queue, "ENDPOINT[,...]",
         "the queue's producer endpoint; several (fronts of one JetStream cluster): move to "
         "the next when one does not answer",
         0, 0},
        {"limit", 'n', NM_OPT_INT, &o.limit, "N", "list at most N (newest first)", 1, 100000},
        {"id", 0, NM_OPT_STRING, &o.id, "ID", "list only this article", 0, 0},
        {"requeue", 'r', NM_OPT_FLAG, &o.requeue, NULL,
         "put the dead letters named as arguments back in the queue", 0, 0},
        {"all", 0, NM_OPT_FLAG, &o.all, NULL, "requeue every dead letter", 0, 0},
        {"timeout", 't', NM_OPT_DURATION, &o.timeout_ms, "DURATION", "wait this long for the queue",
         1, 3600000},
        {"json", 0, NM_OPT_FLAG, &o.json, NULL, "print JSON", 0, 0},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    const nm_opts_program program = {
        "newsmill dead", "[OPTIONS] | dead --requeue ID... | dead --all",
        "Lists the articles the queue gave up on, each with every failure (when,\n"
        "which attempt, which worker, why); or puts them back in the queue for a\n"
        "new round of attempts (their history is kept).\n"
        "Exit: 0 ok, 3 queue unreachable, 4 some ids were not dead letters.",
        opts, n_opts, -1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    size_t n_ids = (size_t)(argc - first);
    if (o.all && n_ids > 0) {
        fprintf(stderr, "newsmill dead: --all takes no ids\n");
        return NM_EXIT_USAGE;
    }
    if (o.requeue && !o.all && n_ids == 0) {
        fprintf(stderr, "newsmill dead: --requeue needs ids (or --all)\n");
        return NM_EXIT_USAGE;
    }
    if (!o.requeue && !o.all && n_ids > 0) {
        fprintf(stderr, "newsmill dead: unexpected '%s' (to requeue: --requeue ID...)\n",
                argv[first]);
        return NM_EXIT_USAGE;
    }

    nm_curve *curve;
    if (nm_curve_new(NULL, &curve_opts, &curve, &err) != 0) {
        fprintf(stderr, "newsmill dead: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new_curve(ctx, o.queue, curve, &err);
    if (!p) {
        fprintf(stderr, "newsmill dead: %s\n", err.msg);
        nm_curve_destroy(&curve);
        zmq_ctx_term(ctx);
        return NM_EXIT_USAGE;
    }
    nm_producer_set_timeout(p, o.timeout_ms, 0);
    int code;
    if (o.requeue || o.all) {
        code = requeue(p, &o, argv + first, n_ids);
    } else {
        Newsmill__DeadList *list;
        if (nm_producer_dead_list(p, (uint32_t)o.limit, o.id, &list, &err) != 0) {
            fprintf(stderr, "newsmill dead: %s\n", err.msg);
            code = err.code == NM_ERR_TIMEOUT ? NM_EXIT_UNAVAILABLE : NM_EXIT_FAILURE;
        } else {
            if (o.json)
                print_json_list(list);
            else
                print_list(list);
            nm_producer_dead_list_free(&list);
            code = NM_EXIT_OK;
        }
    }
    nm_producer_destroy(&p);
    nm_curve_destroy(&curve);
    zmq_ctx_term(ctx);
    return code;
}
