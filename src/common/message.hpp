// Error messages as one readable line whatever the input they quote: control characters escaped,
// a quoted value longer than a line shortened (a megabyte-long config line is not echoed whole).
#pragma once

#include <string>

namespace pfode {

std::string printable_message(const std::string& text);

}  // namespace pfode
