/* chaos_nats: the chaos fleet with the queue on NATS JetStream (chaos
 * --nats): three nats-server nodes, two fronts, and reading what the
 * cluster holds at the end (see chaos.h). */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaos.h"
#include "nm_log.h"
#include "nm_test.h"
#include "nm_time.h"

/* nats-server from PATH (scripts/deps.txt). */
static const char *nats_server(void)
{
    static char path[512];
    FILE *p = popen("command -v nats-server", "r");
    if (!p || !fgets(path, sizeof path, p))
        snprintf(path, sizeof path, "/usr/bin/nats-server");
    if (p)
        pclose(p);
    path[strcspn(path, "\n")] = '\0';
    return path;
}

static long command_number(const char *cmd);

bool chaos_nats_available(void)
{
    return access(nats_server(), X_OK) == 0;
}

void chaos_nats_members(fleet *f, int workers, void (*add)(fleet *f, const char *name, char **argv))
{
    int client[3], route[3];
    char routes[256] = "", dir[3][600], server[3][16], cport[3][16], mport[3][16], rurl[3][64];
    for (int i = 0; i < 3; i++) {
        client[i] = nm_test_free_port();
        route[i] = nm_test_free_port();
        f->nats_monitor[i] = nm_test_free_port();
        snprintf(rurl[i], sizeof rurl[i], "nats://127.0.0.1:%d", route[i]);
        size_t n = strlen(routes);
        snprintf(routes + n, sizeof routes - n, "%snats://127.0.0.1:%d", i ? "," : "", route[i]);
        n = strlen(f->nats_urls);
        snprintf(f->nats_urls + n, sizeof f->nats_urls - n, "%snats://127.0.0.1:%d", i ? "," : "",
                 client[i]);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(dir[i], sizeof dir[i], "%s/nats-%d", f->dir, i + 1);
        snprintf(server[i], sizeof server[i], "n%d", i + 1);
        snprintf(cport[i], sizeof cport[i], "%d", client[i]);
        snprintf(mport[i], sizeof mport[i], "%d", f->nats_monitor[i]);
        char name[16];
        snprintf(name, sizeof name, "nats-%d", i + 1);
        char *argv[] = {(char *)nats_server(), "-a", "127.0.0.1", "-p", cport[i], "-m", mport[i],
                        "-js", "-sd", dir[i], "--server_name", server[i], "--cluster_name",
                        "chaos", "--cluster", rurl[i], "--routes", routes, NULL};
        add(f, name, argv);
    }
    char front[2][64], back[2][64];
    for (int i = 0; i < 2; i++) {
        snprintf(front[i], sizeof front[i], "%s", nm_test_endpoint());
        snprintf(back[i], sizeof back[i], "%s", nm_test_endpoint());
        char *argv[NM_TEST_FLEET_ARGV];
        nm_test_fleet_queue_argv(argv, front[i], back[i], f->stats, f->spool,
                                 (const char *[]){"--store", "jetstream", "--nats", f->nats_urls,
                                                  "--retry-max", "1s", NULL});
        add(f, i ? "queue-2" : "queue", argv);
    }
    snprintf(f->front, sizeof f->front, "%s,%s", front[0], front[1]);
    snprintf(f->back, sizeof f->back, "%s,%s", back[0], back[1]);
    add(f, "collector",
        (char *[]){(char *)nm_test_bin("newsmill-collector"), "--stats-bind", f->stats,
                   "--query-bind", f->query, "--http", f->http, NULL});
    for (int i = 1; i <= workers; i++) {
        char name[32], list[160];
        snprintf(name, sizeof name, "worker-%d", i);
        /* half start on each front, the other one their failover */
        if (i % 2)
            snprintf(list, sizeof list, "%s,%s", back[0], back[1]);
        else
            snprintf(list, sizeof list, "%s,%s", back[1], back[0]);
        char *argv[NM_TEST_FLEET_ARGV];
        nm_test_fleet_worker_argv(argv, list, f->stats, f->results, name);
        int n = 0;
        while (argv[n])
            n++;
        argv[n++] = "--failover-after";
        argv[n++] = "2s";
        argv[n] = NULL;
        add(f, name, argv);
    }
}

bool chaos_nats_wait_accepted(fleet *f, int ms, void (*restart_dead)(fleet *f))
{
    char path[600];
    snprintf(path, sizeof path, "%s/accepted-0.txt", f->dir);
    for (int waited = 0; waited < ms; waited += 100) {
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size > 0)
            return true;
        if (waited % 1000 == 0)
            restart_dead(f); /* a front that gave up on a cluster still forming */
        nm_test_sleep_ms(100);
    }
    return false;
}

bool chaos_nats_healthy(const fleet *f)
{
    for (int i = 0; i < 3; i++) {
        char cmd[200];
        snprintf(cmd, sizeof cmd,
                 "curl -s -o /dev/null -w '%%{http_code}' --max-time 2 http://127.0.0.1:%d/healthz",
                 f->nats_monitor[i]);
        if (command_number(cmd) != 200)
            return false;
    }
    return true;
}

bool chaos_nats_wait_healthy(const fleet *f, int ms)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)ms * NM_NS_PER_MS;
    while (!chaos_nats_healthy(f)) {
        if (nm_time_mono_ns() > deadline)
            return false;
        nm_test_sleep_ms(200);
    }
    return true;
}

/* The first line a shell command prints, as a number; -1: none. */
static long command_number(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    char line[128] = "";
    long v = -1;
    if (p && fgets(line, sizeof line, p) && line[0] >= '0' && line[0] <= '9')
        v = strtol(line, NULL, 10);
    if (p)
        pclose(p);
    return v;
}

long chaos_nats_left(const fleet *f, long *stream_msgs)
{
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "python3 -c '\n"
             "import json, sys, urllib.request\n"
             "def get(port, path):\n"
             "    with urllib.request.urlopen(\"http://127.0.0.1:%%d%%s\" %% (port, path), timeout=3) as r:\n"
             "        return json.load(r)\n"
             "left = msgs = -1\n"
             "for port in sys.argv[1:]:\n"
             "    try:\n"
             "        me = get(int(port), \"/varz\")[\"server_name\"]\n"
             "        js = get(int(port), \"/jsz?streams=true&consumers=true\")\n"
             "    except Exception:\n"
             "        continue\n"
             "    for a in js.get(\"account_details\", []):\n"
             "        for s in a.get(\"stream_detail\", []):\n"
             "            if s[\"name\"] != \"NEWSMILL\":\n"
             "                continue\n"
             "            if s.get(\"cluster\", {}).get(\"leader\") == me:\n"
             "                msgs = s[\"state\"][\"messages\"]\n"
             "            for c in s.get(\"consumer_detail\") or []:\n"
             "                if c.get(\"cluster\", {}).get(\"leader\") == me:\n"
             "                    left = c[\"num_pending\"] + c[\"num_ack_pending\"]\n"
             "print(left, msgs)\n"
             "' %d %d %d 2>/dev/null",
             f->nats_monitor[0], f->nats_monitor[1], f->nats_monitor[2]);
    FILE *p = popen(cmd, "r");
    long left = -1, msgs = -1;
    char line[128];
    if (p && fgets(line, sizeof line, p) && sscanf(line, "%ld %ld", &left, &msgs) != 2)
        left = msgs = -1;
    if (p)
        pclose(p);
    if (stream_msgs)
        *stream_msgs = msgs;
    return left;
}

long chaos_nats_dead(const fleet *f, long *poison, long *not_poison)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s' dead --json --limit 100000 --timeout 5s --queue '%s' | python3 -c '"
             "import json, sys\n"
             "d = json.load(sys.stdin)[\"dead\"]\n"
             "bad = [x for x in d if not x[\"id\"].startswith(\"poison-\")]\n"
             "print(len(d), len(d) - len(bad), len(bad))\n"
             "for x in bad[:10]:\n"
             "    r = x[\"failures\"][-1][\"reason\"] if x[\"failures\"] else \"?\"\n"
             "    print(\"chaos: FAIL dead letter that is not poison: %%s after %%d attempts, "
             "last: %%s\" %% (x[\"id\"], x[\"attempts\"], r))' 2>/dev/null",
             nm_test_bin("newsmill"), f->front);
    FILE *p = popen(cmd, "r");
    char line[1024];
    long n = -1;
    *poison = *not_poison = 0;
    if (p && fgets(line, sizeof line, p) &&
        sscanf(line, "%ld %ld %ld", &n, poison, not_poison) != 3)
        n = -1;
    while (p && fgets(line, sizeof line, p))
        fputs(line, stdout);
    if (p)
        pclose(p);
    return n;
}
