/* bench-queue --raw-nats: what the NATS cluster does without newsmill, for
 * scale: a minimal nats.c client publishes N messages of --body-bytes
 * asynchronously to a work-queue stream (file storage, the replicas asked),
 * waits for every publish ack, then drains it with pull fetches of 200 and
 * an ack per message (acks flushed at the end). One JSON line,
 * "mode":"queue-nats-raw". */
#include "nats_raw.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_time.h"

#define RAW_STREAM "BENCHRAW"
#define RAW_SUBJECT "benchraw"

static int fail(const char *what, natsStatus st)
{
    fprintf(stderr, "bench-queue: raw NATS: %s: %s (%s)\n", what, natsStatus_GetText(st),
            nats_GetLastError(NULL));
    return 1;
}

int bench_nats_raw(const char *urls, int64_t n, int64_t body_bytes, int replicas)
{
    char *list = nm_xstrdup(urls);
    const char *servers[16];
    int n_servers = 0;
    for (char *save = NULL, *u = strtok_r(list, ",", &save); u && n_servers < 16;
         u = strtok_r(NULL, ",", &save))
        servers[n_servers++] = u;
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = natsOptions_SetServers(o, servers, n_servers);
    if (st == NATS_OK)
        st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    free(list);
    if (st != NATS_OK)
        return fail("connecting", st);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 30000;
    jo.PublishAsync.MaxPending = 4096;
    jo.PublishAsync.StallWait = 60000;
    if ((st = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
        return fail("JetStream context", st);
    jsErrCode jerr = 0;
    js_DeleteStream(js, RAW_STREAM, NULL, &jerr); /* a stale one from an aborted run */
    jsStreamConfig sc;
    const char *subjects[] = {RAW_SUBJECT};
    jsStreamConfig_Init(&sc);
    sc.Name = RAW_STREAM;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_FileStorage;
    sc.Replicas = replicas;
    jsStreamInfo *si = NULL;
    for (int tries = 0; (st = js_AddStream(&si, js, &sc, NULL, &jerr)) != NATS_OK && tries < 50;
         tries++)
        nats_Sleep(200); /* leaders being elected */
    jsStreamInfo_Destroy(si);
    if (st != NATS_OK)
        return fail("creating the stream", st);

    char *body = nm_xmalloc((size_t)body_bytes);
    memset(body, 'x', (size_t)body_bytes);
    int64_t t0 = nm_time_mono_ns();
    for (int64_t i = 0; i < n; i++)
        if ((st = js_PublishAsync(js, RAW_SUBJECT, body, (int)body_bytes, NULL)) != NATS_OK)
            return fail("publishing", st);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    if ((st = js_PublishAsyncComplete(js, &po)) != NATS_OK)
        return fail("waiting for publish acks", st);
    int64_t t1 = nm_time_mono_ns();

    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = RAW_STREAM;
    so.Config.AckPolicy = js_AckExplicit;
    so.ManualAck = true;
    if ((st = js_PullSubscribe(&sub, js, RAW_SUBJECT, "benchraw", NULL, &so, &jerr)) != NATS_OK)
        return fail("subscribing", st);
    int64_t got = 0;
    while (got < n) {
        natsMsgList ml = {0};
        st = natsSubscription_Fetch(&ml, sub, 200, 5000, &jerr);
        if (st != NATS_OK && st != NATS_TIMEOUT)
            return fail("fetching", st);
        for (int i = 0; i < ml.Count; i++)
            natsMsg_Ack(ml.Msgs[i], NULL);
        got += ml.Count;
        natsMsgList_Destroy(&ml);
        if (st == NATS_TIMEOUT)
            break;
    }
    natsConnection_FlushTimeout(nc, 30000);
    int64_t t2 = nm_time_mono_ns();
    double pub_s = (double)(t1 - t0) / 1e9, fetch_s = (double)(t2 - t1) / 1e9;
    printf("{\"mode\":\"queue-nats-raw\",\"articles\":%lld,\"body_bytes\":%lld,\"replicas\":%d,"
           "\"publish_seconds\":%.2f,\"publish_per_s\":%.0f,\"fetch_ack_seconds\":%.2f,"
           "\"fetch_ack_per_s\":%.0f,\"fetched\":%lld,\"ok\":%s}\n",
           (long long)n, (long long)body_bytes, replicas, pub_s, (double)n / pub_s, fetch_s,
           (double)got / fetch_s, (long long)got, got == n ? "true" : "false");
    fflush(stdout);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    js_DeleteStream(js, RAW_STREAM, NULL, &jerr);
    free(body);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return got == n ? 0 : 1;
}
