#include "common/message.hpp"

#include <cstdio>

namespace pfode {

namespace {

constexpr size_t quoted_limit = 120, quoted_kept = 100, message_limit = 2000;

std::string escaped(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) {
    if (ch >= 0x20 && ch != 0x7f) {
      out += static_cast<char>(ch);
    } else {
      char code[8];
      std::snprintf(code, sizeof code, "\\x%02x", ch);
      out += code;
    }
  }
  return out;
}

}  // namespace

std::string printable_message(const std::string& text) {
  // Quoted values ('...') beyond a line keep their start and say how long they were.
  std::string out;
  size_t at = 0;
  for (;;) {
    const size_t open = text.find('\'', at);
    const size_t close = open == std::string::npos ? std::string::npos : text.find('\'', open + 1);
    if (close == std::string::npos) break;
    const size_t length = close - open - 1;
    out += text.substr(at, open + 1 - at);
    if (length > quoted_limit)
      out += text.substr(open + 1, quoted_kept) + "...' (" + std::to_string(length) + " characters)";
    else
      out += text.substr(open + 1, length + 1);
    at = close + 1;
  }
  out += text.substr(at);
  out = escaped(out);
  if (out.size() > message_limit)
    out = out.substr(0, message_limit / 2) + " ... (" + std::to_string(out.size() - message_limit) +
          " characters left out) ... " + out.substr(out.size() - message_limit / 2);
  return out;
}

}  // namespace pfode
