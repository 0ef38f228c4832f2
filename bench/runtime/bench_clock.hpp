#pragma once
// Clocks for the compiled bench clients (fanout_reader.cpp, concurrent_driver.cpp):
// wall time as rt.py's time.time(), the process's own CPU, and the kernel's
// receive timestamp of one recvmsg (SO_TIMESTAMPNS). Plain POSIX, header only.
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <ctime>

namespace bench_clock {

/// Seconds since the epoch (CLOCK_REALTIME).
inline double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// User + system CPU seconds of this process.
inline double cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// The SO_TIMESTAMPNS time of the segment a recvmsg returned, or `fallback`
/// when the kernel attached none.
inline double receive_time(msghdr& msg, double fallback) {
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
        }
    return fallback;
}

}  // namespace bench_clock
