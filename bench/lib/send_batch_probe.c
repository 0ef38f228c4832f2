// What a system call costs on this machine, and what batching the sends of one
// fan-out saves: N loopback TCP connections get one small frame each, either
// by a loop of non-blocking sendmsg() calls (what agentd does today) or by one
// io_uring submission of N sends. The receivers are drained between rounds, so
// every send finds room. Used for docs/performance.md ("System calls on this
// VM"); not part of the build.
//
//   apt-get install liburing-dev
//   cc -O2 -o /tmp/send_batch_probe bench/lib/send_batch_probe.c -luring
//   /tmp/send_batch_probe [connections=500] [frame_bytes=200] [rounds=200]
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char* what) {
    perror(what);
    exit(1);
}

int main(int argc, char** argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 500;
    const size_t frame_bytes = argc > 2 ? (size_t)atoi(argv[2]) : 200;
    const int rounds = argc > 3 ? atoi(argv[3]) : 200;
    char* frame = malloc(frame_bytes);
    static char sink[1 << 16];
    int* server = calloc((size_t)n, sizeof(int));
    int* client = calloc((size_t)n, sizeof(int));
    if (!frame || !server || !client) die("malloc");
    memset(frame, 'x', frame_bytes);

    // The cost of entering and leaving the kernel for nothing.
    const int null_calls = 200000;
    double t0 = cpu_s();
    for (int i = 0; i < null_calls; ++i) syscall(SYS_getppid);
    const double null_us = (cpu_s() - t0) / null_calls * 1e6;

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr*)&addr, sizeof addr) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr*)&addr, &len))
        die("listen");
    for (int i = 0; i < n; ++i) {
        client[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client[i], (struct sockaddr*)&addr, sizeof addr)) die("connect");
        server[i] = accept(listener, NULL, NULL);
        if (server[i] < 0) die("accept");
        int one = 1;
        setsockopt(server[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(server[i], F_SETFL, O_NONBLOCK);
    }
    struct io_uring ring;
    if (io_uring_queue_init((unsigned)(n < 4096 ? 4096 : n), &ring, 0)) die("io_uring_queue_init");

    double loop_cpu = 0, batch_cpu = 0;
    for (int r = 0; r < rounds; ++r) {
        t0 = cpu_s();
        for (int i = 0; i < n; ++i) {
            struct iovec v = {frame, frame_bytes};
            struct msghdr m = {0};
            m.msg_iov = &v;
            m.msg_iovlen = 1;
            if (sendmsg(server[i], &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)frame_bytes) die("sendmsg");
        }
        loop_cpu += cpu_s() - t0;
        for (int i = 0; i < n; ++i)
            while (recv(client[i], sink, sizeof sink, MSG_DONTWAIT) > 0) {}

        t0 = cpu_s();
        for (int i = 0; i < n; ++i)
            io_uring_prep_send(io_uring_get_sqe(&ring), server[i], frame, frame_bytes, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (io_uring_submit_and_wait(&ring, (unsigned)n) < 0) die("io_uring_submit_and_wait");
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res != (int)frame_bytes) {
                fprintf(stderr, "send: %d\n", cqe->res);
                return 1;
            }
            ++seen;
        }
        io_uring_cq_advance(&ring, seen);
        batch_cpu += cpu_s() - t0;
        for (int i = 0; i < n; ++i)
            while (recv(client[i], sink, sizeof sink, MSG_DONTWAIT) > 0) {}
    }
    const double sends = (double)rounds * n;
    printf("null system call: %.2f us; per %zu-byte send to one of %d connections: sendmsg loop %.2f us, "
           "io_uring batch %.2f us (CPU time)\n",
           null_us, frame_bytes, n, loop_cpu / sends * 1e6, batch_cpu / sends * 1e6);
    return 0;
}
