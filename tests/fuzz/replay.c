/* Runs a fuzz target without libFuzzer, so that every build exercises it:
 * first the files given as arguments (files, or directories: every file in
 * them, e.g. tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME), then pseudo-random
 * inputs from a fixed seed, mixing words, names, punctuation, UTF-8 from
 * several scripts and raw bytes, for a bounded number of iterations
 * (NM_FUZZ_ITERATIONS, default 2000). Exit 0 when the target never aborted. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: targets without it need not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t gen(uint8_t *buf, size_t cap)
{
    static const char *const pieces[] = {
        "Ankara", "Hamas", "Kalın", "Ibrahim", "TURKISH", "the", "met", "in", ".", ",", "\n",
        " ", " ", " ", "São", "Москва", "أنقرة", "北京", "’s", "\"", "(", ")", "-", "U.S.",
        "1996", "-DOCSTART-", "\xff", "\xc3", "\xe2\x80", "\0", "B-PER", "Mc", "de",
    };
    size_t n = 0, target = next() % cap;
    while (n < target) {
        uint64_t r = next();
        if (r % 8 == 0) { /* a long run of one byte */
            size_t run = next() % 3000;
            uint8_t c = (uint8_t)next();
            while (run-- && n < cap)
                buf[n++] = c;
        } else if (r % 8 == 1) {
            buf[n++] = (uint8_t)next();
        } else {
            const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
            size_t len = p[0] ? strlen(p) : 1;
            for (size_t i = 0; i < len && n < cap; i++)
                buf[n++] = (uint8_t)p[i];
        }
    }
    return n;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static uint8_t file_buf[1 << 20];
    size_t len = fread(file_buf, 1, sizeof file_buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(file_buf, len);
    return 0;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            if (replay_file(argv[i]))
                return 1;
            n_files++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d))) { /* a corpus directory: every file in it */
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (replay_file(path)) {
                closedir(d);
                return 1;
            }
            n_files++;
        }
        closedir(d);
    }
    const char *env = getenv("NM_FUZZ_ITERATIONS");
    long iterations = env ? atol(env) : 2000;
    size_t cap = 1 << 14;
    uint8_t *buf = malloc(cap);
    for (long i = 0; i < iterations; i++) {
        size_t len = gen(buf, cap);
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);
    printf("replayed %d files and %ld generated inputs\n", n_files, iterations);
    return 0;
}
