// FNV-1a over 64 bits: a fingerprint that detects accidental change of data (a truncated, zeroed,
// swapped or edited file), not deliberate forgery. Strings enter with their length, so that
// consecutive fields cannot trade characters.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

namespace pfode {

class Fingerprint {
 public:
  void add_bytes(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) value_ = (value_ ^ bytes[i]) * 1099511628211ull;
  }
  template <class T>
  void add(T value) {
    static_assert(std::is_arithmetic_v<T>, "numbers only: add the bytes of anything else");
    add_bytes(&value, sizeof value);
  }
  void add(const std::string& text) {
    add(static_cast<std::uint64_t>(text.size()));
    add_bytes(text.data(), text.size());
  }
  std::uint64_t value() const { return value_; }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value_));
    return buf;
  }

 private:
  std::uint64_t value_ = 14695981039346656037ull;
};

}  // namespace pfode
