#include "common/named_options.hpp"

#include <cmath>
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
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v))
    throw std::invalid_argument(what + ": '" + text + "' is not a finite number");
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
