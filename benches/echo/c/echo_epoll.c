/*
 * echo_epoll: the floor for the TCP echo benchmark. A hand-written, single-threaded epoll echo
 * server that makes the fewest syscalls a readiness-based server can make.
 *
 *     echo_epoll 127.0.0.1:0      # prints "listening on 127.0.0.1:<port>", echoes until killed
 *
 * - Every socket is non-blocking and registered once, edge-triggered, for reading and writing
 *   (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET): no epoll_ctl after accept, ever.
 * - Reading: read up to 64 KiB; a read that returns less than asked means the socket is drained
 *   (the next arrival raises a new edge), so the "until EAGAIN" read is skipped then. A full
 *   read reads again.
 * - Writing: write at once what was read. If the socket takes only part of it, keep the rest,
 *   stop reading (backpressure) and finish on the next EPOLLOUT edge.
 * So a 1 KiB round trip on one connection is epoll_wait + read + write.
 *
 * Built by benches/echo's driver with `gcc -O2`. Linux only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    int readable;   /* an edge said "readable" and we have not drained it yet */
    size_t out_off; /* unsent bytes are buf[out_off .. out_len] */
    size_t out_len;
    char buf[BUF_SIZE];
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Writes what is pending; returns -1 on a dead connection, 0 otherwise (done or EAGAIN). */
static int flush(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->buf + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return 0;
        } else {
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Handles one event; returns -1 when the connection is to be closed. */
static int serve(struct conn *c, uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->readable = 1;
    if (c->out_len > 0) {
        if (flush(c) < 0)
            return -1;
        if (c->out_len > 0)
            return 0; /* still full: wait for EPOLLOUT, read nothing meanwhile */
    }
    while (c->readable) {
        ssize_t n = read(c->fd, c->buf, BUF_SIZE);
        if (n > 0) {
            if (n < BUF_SIZE)
                c->readable = 0; /* short read: drained */
            c->out_off = 0;
            c->out_len = (size_t)n;
            if (flush(c) < 0)
                return -1;
            if (c->out_len > 0)
                return 0;
        } else if (n == 0) {
            return -1; /* the peer closed */
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            c->readable = 0;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <ipv4-addr:port>   (port 0 picks a free one)\n", argv[0]);
        return 2;
    }
    /* A peer that closes while an echo is on its way makes write fail with EPIPE: a closed
     * connection, not a reason to die of SIGPIPE. (Rust and Python ignore SIGPIPE too.) */
    signal(SIGPIPE, SIG_IGN);
    char host[64];
    const char *colon = strrchr(argv[1], ':');
    if (!colon || (size_t)(colon - argv[1]) >= sizeof host) {
        fprintf(stderr, "%s: expected <ipv4-addr:port>, got %s\n", argv[0], argv[1]);
        return 2;
    }
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = '\0';

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: not an IPv4 address: %s\n", argv[0], host);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(lfd, 1024) < 0)
        die("listen");
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        die("getsockname");
    printf("listening on %s:%u\n", host, ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    /* The listener's data.ptr is NULL; a connection's is its struct conn. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll_ctl");

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                for (;;) { /* accept until EAGAIN: the listener is edge-triggered too */
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                            continue;
                        if (errno != EAGAIN)
                            perror("accept4"); /* EMFILE and friends: keep serving the rest */
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = malloc(sizeof *nc);
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    nc->readable = 0;
                    nc->out_off = nc->out_len = 0;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                              .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
                        close(fd);
                        free(nc);
                    }
                }
                continue;
            }
            if (serve(c, events[i].events) < 0) {
                close(c->fd); /* also removes it from the epoll set */
                free(c);
            }
        }
    }
}
