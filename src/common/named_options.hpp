// "name[key=value,key=value]": how a config names a spacing or solver together with its options.
#pragma once

#include <map>
#include <string>

namespace pfode {

struct NamedOptions {
  std::string name;
  std::map<std::string, std::string> options;
};

NamedOptions parse_named_options(const std::string& text);  // throws std::invalid_argument

// Strict conversions for option and config values; `what` names the value in the error.
double parse_double(const std::string& text, const std::string& what);
long parse_long(const std::string& text, const std::string& what);
bool parse_bool(const std::string& text, const std::string& what);

}  // namespace pfode
