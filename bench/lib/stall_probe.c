// Spins for N seconds reading CLOCK_MONOTONIC and counts the gaps between two
// reads: a gap is time this thread did not run. Used to tell the machine's
// stalls from the server's (docs/performance.md, "Why the p99 targets fail").
//
//   cc -O2 -o /tmp/stall_probe bench/lib/stall_probe.c
//   /tmp/stall_probe 8                          # one vCPU busy
//   /tmp/stall_probe 8 & /tmp/stall_probe 8     # both busy
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    const double start = now_s();
    double last = start, longest = 0;
    int over5 = 0, over20 = 0, over50 = 0;
    for (;;) {
        const double t = now_s(), gap = t - last;
        if (gap > 0.005) ++over5;
        if (gap > 0.020) ++over20;
        if (gap > 0.050) ++over50;
        if (gap > longest) longest = gap;
        last = t;
        if (t - start > seconds) break;
    }
    printf("gaps over 5 ms: %d, over 20 ms: %d, over 50 ms: %d; longest %.1f ms\n", over5, over20, over50,
           longest * 1000);
    return 0;
}
