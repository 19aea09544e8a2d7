// Named noise schedules with their default parameters: the boundary between strings and Schedule.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "schedule/schedule.hpp"

namespace pfode::schedule {

struct ScheduleInfo {
  std::string name;
  Kind kind;
  std::string description;
  Schedule defaults;
  std::vector<std::string> parameter_names;  // names of p0, p1 (empty when unused)
};

const std::vector<ScheduleInfo>& all_schedules();

// Looks up a schedule by name; throws std::invalid_argument naming the unknown schedule.
const ScheduleInfo& find_schedule(const std::string& name);

// Builds a schedule from its defaults and overrides (t_min, t_max and the named parameters);
// throws std::invalid_argument for unknown keys and out-of-range values.
Schedule make_schedule(const std::string& name, const std::map<std::string, double>& overrides = {});

}  // namespace pfode::schedule
