/*
 * make_seeds: writes the protocol fuzz targets' seed corpora.
 *   make_seeds CORPUS_DIR   -> CORPUS_DIR/fuzz_frame/<body>.bin (one valid
 *                              encoded envelope per body type, plus two
 *                              realistic ones) and CORPUS_DIR/fuzz_envelope/
 *                              <body>.bin (builder inputs selecting each type)
 * Deterministic: the same build writes the same files. Run by hand when the
 * protocol gains a message type (scripts/fuzz --seeds), commit the result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_proto.h"
#include "nm_frame.h"

static void write_file(const char *dir, const char *sub, const char *name, const void *buf,
                       size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s.bin", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint8_t next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static void realistic(const char *dir)
{
    static const char text[] =
        "Talks resume in Ankara\n\nIbrahim Kalın, head of Turkey's National Intelligence "
        "Organization (MIT), met Hamas officials on Monday.\n\nIsrael’s delegation arrived "
        "later; São Paulo observers said the talks were constructive.";
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT;
    a.id = "bbc-2024-0001";
    a.content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    a.body.data = (uint8_t *)text;
    a.body.len = sizeof text - 1;
    a.source = "bbc";
    a.url = "https://example.org/news/ankara";
    a.published_unix_ms = 1714557600000;
    a.language = "en";
    Newsmill__KeyValue kv = NEWSMILL__KEY_VALUE__INIT;
    kv.key = "section";
    kv.value = "world";
    Newsmill__KeyValue *kvs[] = {&kv};
    a.metadata = kvs;
    a.n_metadata = 1;
    Newsmill__Article *arts[] = {&a};
    Newsmill__SubmitBatch b = NEWSMILL__SUBMIT_BATCH__INIT;
    b.articles = arts;
    b.n_articles = 1;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = 1;
    env.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    env.submit = &b;
    uint8_t *buf;
    size_t len;
    nm_frame_encode(&env, &buf, &len);
    write_file(dir, "fuzz_frame", "real-submit", buf, len);
    free(buf);

    static const char html[] = "<html><head><title>Ankara talks</title></head><body><article>"
                               "<h1>Ankara talks</h1><p>Kalın met Hamas.</p></article></body></html>";
    a.content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
    a.body.data = (uint8_t *)html;
    a.body.len = sizeof html - 1;
    Newsmill__Delivery d = NEWSMILL__DELIVERY__INIT;
    d.lease_id = 77;
    d.attempt = 2;
    d.lease_ms = 30000;
    d.enqueued_unix_ms = 1714557600123;
    d.article = &a;
    env.body_case = NEWSMILL__ENVELOPE__BODY_DELIVERY;
    env.delivery = &d;
    nm_frame_encode(&env, &buf, &len);
    write_file(dir, "fuzz_frame", "real-delivery", buf, len);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    const ProtobufCMessageDescriptor *ed = &newsmill__envelope__descriptor;
    unsigned k = 0;
    for (unsigned i = 0; i < ed->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &ed->fields[i];
        if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        uint8_t input[400];
        input[0] = (uint8_t)k++;
        for (size_t j = 1; j < sizeof input; j++)
            input[j] = next_byte();
        write_file(dir, "fuzz_envelope", fd->name, input, sizeof input);

        fz f = {input + 1, sizeof input - 1};
        pb_pool pool = {0};
        Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
        env.request_id = k;
        ProtobufCMessage *m = pb_build(fd->descriptor, &f, &pool, 1);
        memcpy((char *)&env + fd->offset, &m, sizeof m);
        env.body_case = (Newsmill__Envelope__BodyCase)fd->id;
        uint8_t *buf;
        size_t len;
        nm_frame_encode(&env, &buf, &len);
        write_file(dir, "fuzz_frame", fd->name, buf, len);
        free(buf);
        pb_pool_free(&pool);
    }
    realistic(dir);
    printf("wrote seeds for %u body types to %s\n", k, dir);
    return 0;
}
