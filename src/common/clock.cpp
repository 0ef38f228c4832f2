#include "common/clock.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace agentd::clock {

std::int64_t now_us() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

std::string format(std::int64_t us, bool local, char sep, bool with_fraction) {
    std::time_t secs = static_cast<std::time_t>(us / 1000000);
    int frac = static_cast<int>(us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        --secs;
    }
    std::tm tm{};
    if (local) localtime_r(&secs, &tm);
    else gmtime_r(&secs, &tm);
    std::string out = fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                  tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (with_fraction && frac != 0) out += fmt::format(".{:06}", frac);
    return out;
}

}  // namespace

std::string iso_utc(std::int64_t us) { return format(us, false, 'T', true); }
std::string iso_local(std::int64_t us) { return format(us, true, 'T', true); }
std::string local_name_stamp(std::int64_t us) { return format(us, true, ' ', false); }

}  // namespace agentd::clock
