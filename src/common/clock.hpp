#pragma once
// Time as the reference writes it: naive ISO 8601 without offset, microseconds
// omitted when zero. Records are kept in UTC (the reference's SQL backend does the same).
#include <cstdint>
#include <string>

namespace agentd::clock {

/// Microseconds since the Unix epoch.
std::int64_t now_us();

/// "2026-03-14T09:30:12.123456" (UTC); fraction dropped when it is zero.
std::string iso_utc(std::int64_t us);

/// Local time "YYYY-MM-DD HH:MM:SS": the default session name.
std::string local_name_stamp(std::int64_t us);

/// Local naive ISO timestamp, like Python's datetime.now().isoformat().
std::string iso_local(std::int64_t us);

inline std::string now_iso() { return iso_utc(now_us()); }

}  // namespace agentd::clock
