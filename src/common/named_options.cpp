#include "common/named_options.hpp"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace pfode {

NamedOptions parse_named_options(const std::string& text) {
  NamedOptions out;
  const auto open = text.find('[');
  out.name = text.substr(0, open);
  if (out.name.empty()) throw std::invalid_argument("'" + text + "': missing name");
  if (open == std::string::npos) return out;
  if (text.back() != ']') throw std::invalid_argument("'" + text + "': missing closing ']'");
  if (open + 2 == text.size())
    throw std::invalid_argument("'" + text + "': empty option list (write " + out.name + ", or " + out.name +
                                "[key=value,...])");
  std::stringstream body(text.substr(open + 1, text.size() - open - 2));
  std::string item;
  while (std::getline(body, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("'" + text + "': option '" + item + "' is not key=value");
    if (!out.options.emplace(item.substr(0, eq), item.substr(eq + 1)).second)
      throw std::invalid_argument("'" + text + "': option '" + item.substr(0, eq) + "' given twice");
  }
  return out;
}

double parse_double(const std::string& text, const std::string& what) {
  // strtod rather than stod: its out-of-range cases need telling apart (1e-320 is a number, but
  // one below double precision's normal range, not "not finite").
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  const bool whole = end != begin && static_cast<size_t>(end - begin) == text.size();
  if (whole && errno == ERANGE && std::fabs(v) < DBL_MIN)
    throw std::invalid_argument(what + ": '" + text + "' is too close to zero for double precision (below 2.2e-308)");
  if (whole && errno == ERANGE)
    throw std::invalid_argument(what + ": '" + text + "' is too large for double precision (above 1.8e308)");
  if (!whole || !std::isfinite(v)) throw std::invalid_argument(what + ": '" + text + "' is not a finite number");
  return v;
}

long parse_long(const std::string& text, const std::string& what) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw std::invalid_argument(what + ": '" + text + "' is not an integer");
  return v;
}

bool parse_bool(const std::string& text, const std::string& what) {
  if (text == "true" || text == "on" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "off" || text == "no" || text == "0") return false;
  throw std::invalid_argument(what + ": '" + text + "' is not true/false");
}

}  // namespace pfode
