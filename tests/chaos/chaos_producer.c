/* chaos: the producer processes (see chaos.h). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "chaos.h"
#include "nm_hash.h"
#include "nm_producer.h"

static uint64_t rng_state;

static int rng_between(int lo, int hi)
{
    return nm_test_rng_between(&rng_state, lo, hi);
}

/* ---- producers --------------------------------------------------------- */

static volatile sig_atomic_t producer_stop;

static void on_term(int sig)
{
    (void)sig;
    producer_stop = 1;
}

static const char *const topics[] = {
    "Turkish intelligence chief Ibrahim Kalın met Hamas leaders in Ankara on Tuesday.",
    "The National Intelligence Organization (MIT) kept talking to Egypt and Qatar.",
    "Markets in São Paulo rose after the central bank held rates steady.",
    "Israel’s cabinet met late into the night to discuss the ceasefire proposal.",
    "The United Nations said more aid trucks reached Gaza through the Rafah crossing.",
    "Engineers at Siemens in Munich unveiled a faster train for the Berlin line.",
};
#define N_TOPICS (sizeof topics / sizeof topics[0])

bool chaos_is_poison(long n)
{
    return n % POISON_EVERY == POISON_EVERY - 1;
}

/* Writes version v (0 = first) of article n of producer p: its id into id,
 * its body into body. The same (p, n, v) always gives the same bytes, so the
 * checker can rebuild what was sent; versions of one id differ in their text,
 * so what is stored says which version it is. */
void chaos_make_article(int p, long n, int v, char *id, size_t id_size, char *body,
                        size_t body_size, Newsmill__ContentType *type)
{
    snprintf(id, id_size, "%s-p%d-%ld", chaos_is_poison(n) ? "poison" : "chaos", p, n);
    if (chaos_is_poison(n)) {
        snprintf(body, body_size, "<html><body><nav><p> %ld </p></nav></body></html>", n);
        *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
        return;
    }
    size_t u = (size_t)n + (size_t)v;
    snprintf(body, body_size,
             "Chaos report %d-%ld revision %d\n\n%s %s\n\n%s Article %ld of producer %d, revision %d.\n",
             p, n, v, topics[u % N_TOPICS], topics[((size_t)n / 7 + 2 * (size_t)v) % N_TOPICS],
             topics[((size_t)n / 3 + 1 + (size_t)v) % N_TOPICS], n, p, v);
    *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
}

uint64_t chaos_body_hash(const char *body)
{
    return nm_hash_bytes(body, strlen(body));
}

static bool in_batch(const long *n_of, int upto, long n)
{
    for (int i = 0; i < upto; i++)
        if (n_of[i] == n)
            return true;
    return false;
}

/* A producer process: submits batches until told to stop, resubmitting a
 * batch until it is acked. About one slot in RESUBMIT_ONE_IN sends a new
 * version of one of its recent articles instead of a new one. Each producer
 * owns its ids, and submits one batch at a time, so the last version it was
 * acked for an id is that id's latest acknowledged version. Writes one line
 * per accepted article to accepted-P.txt: "ID<TAB>VERSION<TAB>BODY-HASH";
 * a batch still unacknowledged when it is stopped (the queue may or may not
 * hold it) is written with a fourth field "unacked". */
int chaos_run_producer(const fleet *f, int p, uint64_t seed_state)
{
    signal(SIGTERM, on_term);
    rng_state = (seed_state ^ (uint64_t)(p + 1) * UINT64_C(0x9e3779b97f4a7c15)) | 1;
    char path[600];
    snprintf(path, sizeof path, "%s/accepted-%d.txt", f->dir, p);
    FILE *out = fopen(path, "w");
    if (!out)
        return 1;
    void *ctx = zmq_ctx_new();
    nm_error err;
    nm_producer *prod = nm_producer_new(ctx, f->front, &err);
    if (!prod)
        return 1;
    nm_producer_set_timeout(prod, 1500, 0);
    static char ids[BATCH][64], bodies[BATCH][600];
    Newsmill__Article arts[BATCH], *batch[BATCH];
    long n_of[BATCH];
    int *version = NULL; /* version[n]: the last version of article n sent */
    size_t cap = 0;
    long next = 0;
    while (!producer_stop) {
        for (int i = 0; i < BATCH; i++) {
            long n = next;
            if (next > 0 && rng_between(1, RESUBMIT_ONE_IN) == 1) {
                long m = next - rng_between(1, (int)(next < RESUBMIT_WINDOW ? next : RESUBMIT_WINDOW));
                if (!chaos_is_poison(m) && !in_batch(n_of, i, m))
                    n = m;
            }
            if (n == next) {
                if ((size_t)next == cap) {
                    cap = cap ? cap * 2 : 4096;
                    version = realloc(version, cap * sizeof *version);
                    if (!version)
                        return 1;
                }
                version[next++] = 0;
            } else {
                version[n]++;
            }
            n_of[i] = n;
            newsmill__article__init(&arts[i]);
            chaos_make_article(p, n, version[n], ids[i], sizeof ids[i], bodies[i], sizeof bodies[i],
                         &arts[i].content_type);
            arts[i].id = ids[i];
            arts[i].source = "chaos";
            arts[i].body.data = (uint8_t *)bodies[i];
            arts[i].body.len = strlen(bodies[i]);
            batch[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack = NULL;
        /* The same batch again after a timeout: same ids and versions, no duplicates. */
        while (!producer_stop && nm_producer_submit(prod, batch, BATCH, &ack, &err) != 0)
            nm_test_sleep_ms(100);
        if (!ack) {
            for (int i = 0; i < BATCH; i++)
                fprintf(out, "%s\t%d\t%016" PRIx64 "\tunacked\n", ids[i], version[n_of[i]],
                        chaos_body_hash(bodies[i]));
            break;
        }
        for (size_t a = 0; a < ack->n_acks; a++) {
            if (!ack->acks[a]->accepted)
                continue;
            for (int i = 0; i < BATCH; i++) {
                if (!strcmp(ids[i], ack->acks[a]->id)) {
                    fprintf(out, "%s\t%d\t%016" PRIx64 "\n", ids[i], version[n_of[i]],
                            chaos_body_hash(bodies[i]));
                    break;
                }
            }
        }
        fflush(out);
        nm_producer_ack_free(&ack);
        nm_test_sleep_ms(20);
    }
    fclose(out);
    free(version);
    nm_producer_destroy(&prod);
    zmq_ctx_term(ctx);
    return 0;
}
