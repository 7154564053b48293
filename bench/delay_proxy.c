/* A delaying unix-socket proxy: the database one network hop away, for `make bench`.
 *
 * `tc netem` would put the database a hop away in the kernel, but this machine's kernel has no
 * sch_netem (and cannot load modules). This proxy does what netem on the database's side does:
 * every chunk the server sends is held DELAY microseconds, in order; what the client sends goes
 * through at once. So every exchange (client sends, then waits for the answer) costs one more
 * DELAY, like a round trip. One thread, epoll and one timerfd: a few microseconds of CPU per
 * chunk, where bench/wire_proxy.py (asyncio) spends a third of a core and caps the curve.
 *
 *   gcc -O2 -o delay_proxy bench/delay_proxy.c     (bench/delay_proxy.py does this)
 *   ./delay_proxy LISTEN_SOCKET UPSTREAM_SOCKET DELAY_MICROSECONDS
 *
 * It prints "listening" on stdout once clients may connect, and runs until it is signalled.
 * The delay is constant, so chunks fall due in the order they arrived: one queue for all
 * connections, its head is the next one due. Writes are blocking: PostgreSQL's clients read
 * every answer, and the bench's answers are far smaller than a unix socket's buffer.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
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

#define MAX_PAIRS 1024
#define CHUNK 65536
#define LISTENER UINT64_MAX
#define TIMER (UINT64_MAX - 1)

struct chunk {
    struct chunk *next;
    uint64_t due_ns;
    uint32_t slot, generation;
    size_t len;
    char data[];
};

struct pair {
    int client, server, live;
    int server_closed; /* close the client once its queued chunks are delivered */
    uint32_t generation; /* bumped when the slot is freed: its queued chunks are dropped */
    size_t queued;
};

static struct pair pairs[MAX_PAIRS];
static struct chunk *head, *tail; /* server -> client chunks, in arrival (= due) order */
static uint64_t delay_ns;
static int timer;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int unix_socket(const char *path, int listening) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) return errno = ENAMETOOLONG, -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (listening) {
        unlink(path);
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1024) == 0)
            return fd;
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        return fd;
    }
    close(fd);
    return -1;
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

static void close_pair(struct pair *p) {
    close(p->client); /* closing removes them from the epoll set */
    if (!p->server_closed) close(p->server);
    p->live = 0, p->queued = 0, p->generation++;
}

static void arm_timer(void) {
    struct itimerspec when = {0};
    if (head) {
        when.it_value.tv_sec = (time_t)(head->due_ns / 1000000000u);
        when.it_value.tv_nsec = (long)(head->due_ns % 1000000000u);
    }
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
}

static void deliver_due(void) {
    uint64_t now = now_ns();
    while (head && head->due_ns <= now) {
        struct chunk *c = head;
        head = c->next;
        if (!head) tail = NULL;
        struct pair *p = &pairs[c->slot];
        if (p->live && p->generation == c->generation) {
            p->queued--;
            if (write_all(p->client, c->data, c->len) || (p->server_closed && !p->queued))
                close_pair(p);
        }
        free(c);
    }
    arm_timer();
}

static void accept_client(int ep, int listener, const char *upstream) {
    int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) return;
    int slot = 0;
    while (slot < MAX_PAIRS && pairs[slot].live) slot++;
    int server = slot < MAX_PAIRS ? unix_socket(upstream, 0) : -1;
    if (server < 0) {
        fprintf(stderr, "delay_proxy: %s\n",
                slot < MAX_PAIRS ? strerror(errno) : "too many connections, one refused");
        close(client);
        return;
    }
    struct pair *p = &pairs[slot];
    p->client = client, p->server = server, p->live = 1, p->server_closed = 0, p->queued = 0;
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = 2 * (uint64_t)slot;
    epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev);
    ev.data.u64 = 2 * (uint64_t)slot + 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev);
}

static void forward(struct pair *p, uint32_t slot, int from_server, const char *data, ssize_t n) {
    if (!from_server || !delay_ns) {
        if (write_all(from_server ? p->client : p->server, data, (size_t)n)) close_pair(p);
        return;
    }
    struct chunk *c = malloc(sizeof *c + (size_t)n);
    if (!c) {
        perror("delay_proxy");
        exit(1);
    }
    *c = (struct chunk){.due_ns = now_ns() + delay_ns, .slot = slot, .len = (size_t)n};
    c->generation = p->generation;
    memcpy(c->data, data, (size_t)n);
    if (tail) tail->next = c;
    else head = c, arm_timer();
    tail = c;
    p->queued++;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTEN_SOCKET UPSTREAM_SOCKET DELAY_MICROSECONDS\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    delay_ns = strtoull(argv[3], NULL, 10) * 1000u;
    int listener = unix_socket(argv[1], 1);
    timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (listener < 0 || timer < 0 || ep < 0) {
        perror("delay_proxy: start");
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTENER};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    ev.data.u64 = TIMER;
    epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);
    printf("listening\n");
    fflush(stdout);
    static char buffer[CHUNK];
    for (;;) {
        struct epoll_event events[64];
        int ready = epoll_wait(ep, events, 64, -1);
        if (ready < 0 && errno != EINTR) {
            perror("delay_proxy: epoll_wait");
            return 1;
        }
        for (int e = 0; e < ready; e++) {
            uint64_t tag = events[e].data.u64;
            if (tag == LISTENER) {
                accept_client(ep, listener, argv[2]);
            } else if (tag == TIMER) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) > 0) deliver_due();
            } else {
                uint32_t slot = (uint32_t)(tag / 2);
                struct pair *p = &pairs[slot];
                int from_server = (int)(tag % 2);
                if (!p->live || (from_server && p->server_closed)) continue;
                /* Not waiting: an event of a pair closed earlier in this batch may name a slot
                 * that a new pair has taken since. */
                int fd = from_server ? p->server : p->client;
                ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
                if (n > 0) {
                    forward(p, slot, from_server, buffer, n);
                } else if (from_server && p->queued) {
                    /* The server is done (an error, then close): its last words still take
                     * their time to arrive. */
                    close(p->server);
                    p->server_closed = 1;
                } else {
                    close_pair(p);
                }
            }
        }
    }
}
