/* DRAFT (issue 10 spike): a delaying unix-socket proxy in C, the stand-in for `tc netem`.
 *
 * This kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set, and modules cannot be
 * loaded), so "the database is 1 ms away" cannot be made by the kernel here. This proxy does
 * what netem on the database's side would do: every chunk the server sends is held for DELAY
 * microseconds, in order; what the client sends goes through at once. One thread, epoll and one
 * timerfd, so it costs a few microseconds of CPU per chunk instead of bench/wire_proxy.py's
 * Python per exchange.
 *
 *   gcc -O2 -o delay_proxy bench/draft_delay_proxy.c
 *   ./delay_proxy LISTEN_SOCKET UPSTREAM_SOCKET DELAY_MICROSECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define CHUNK 65536

struct chunk {
    struct chunk *next;
    uint64_t due_ns;
    size_t len;
    char data[];
};

struct pair {
    int client, server, live;
    struct chunk *head, *tail; /* server -> client, waiting for their time */
};

static struct pair pairs[MAX_PAIRS];
static uint64_t delay_ns;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int unix_socket(const char *path, int listening) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listening) {
        unlink(path);
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 512)) return -1;
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *data, size_t len) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n, len -= (size_t)n;
    }
    return 0;
}

static void drop(struct pair *p) {
    close(p->client), close(p->server);
    while (p->head) {
        struct chunk *c = p->head;
        p->head = c->next;
        free(c);
    }
    p->tail = NULL, p->live = 0;
}

static void arm(int timer) {
    uint64_t first = 0;
    for (int i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].live && pairs[i].head && (!first || pairs[i].head->due_ns < first))
            first = pairs[i].head->due_ns;
    struct itimerspec when = {0};
    if (first) {
        when.it_value.tv_sec = first / 1000000000u;
        when.it_value.tv_nsec = first % 1000000000u;
    }
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTEN_SOCKET UPSTREAM_SOCKET DELAY_MICROSECONDS\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    delay_ns = strtoull(argv[3], NULL, 10) * 1000u;
    int listener = unix_socket(argv[1], 1);
    int timer = timerfd_create(CLOCK_MONOTONIC, 0);
    int ep = epoll_create1(0);
    if (listener < 0 || timer < 0 || ep < 0) return perror("start"), 1;
    /* epoll data: -1 listener, -2 timer, 2*i client of pair i, 2*i+1 server of pair i */
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    ev.data.u64 = (uint64_t)-2;
    epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);
    static char buffer[CHUNK];
    for (;;) {
        struct epoll_event events[64];
        int ready = epoll_wait(ep, events, 64, -1);
        for (int e = 0; e < ready; e++) {
            uint64_t tag = events[e].data.u64;
            if (tag == (uint64_t)-1) {
                int client = accept(listener, NULL, NULL), slot = 0;
                while (slot < MAX_PAIRS && pairs[slot].live) slot++;
                int server = unix_socket(argv[2], 0);
                if (client < 0 || server < 0 || slot == MAX_PAIRS) {
                    if (client >= 0) close(client);
                    if (server >= 0) close(server);
                    continue;
                }
                pairs[slot] = (struct pair){.client = client, .server = server, .live = 1};
                ev.data.u64 = 2 * (uint64_t)slot;
                epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev);
                ev.data.u64 = 2 * (uint64_t)slot + 1;
                epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev);
            } else if (tag == (uint64_t)-2) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) < 0) continue;
                uint64_t now = now_ns();
                for (int i = 0; i < MAX_PAIRS; i++) {
                    struct pair *p = &pairs[i];
                    while (p->live && p->head && p->head->due_ns <= now) {
                        struct chunk *c = p->head;
                        p->head = c->next;
                        if (!p->head) p->tail = NULL;
                        int failed = write_all(p->client, c->data, c->len);
                        free(c);
                        if (failed) drop(p);
                    }
                }
                arm(timer);
            } else {
                struct pair *p = &pairs[tag / 2];
                if (!p->live) continue;
                int from_server = tag % 2;
                ssize_t n = read(from_server ? p->server : p->client, buffer, sizeof buffer);
                if (n <= 0) {
                    drop(p);
                    continue;
                }
                if (!from_server || !delay_ns) {
                    if (write_all(from_server ? p->client : p->server, buffer, (size_t)n)) drop(p);
                    continue;
                }
                struct chunk *c = malloc(sizeof *c + (size_t)n);
                c->next = NULL, c->due_ns = now_ns() + delay_ns, c->len = (size_t)n;
                memcpy(c->data, buffer, (size_t)n);
                int was_idle = !p->head;
                if (p->tail) p->tail->next = c;
                else p->head = c;
                p->tail = c;
                if (was_idle) arm(timer);
            }
        }
    }
}
