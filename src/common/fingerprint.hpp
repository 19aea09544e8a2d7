// A 64-bit FNV-1a fingerprint of values, to tell whether two inputs hold the same data (not a
// cryptographic hash): the checkpoint's input data, a problem file's content.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace pfode {

class Fingerprint {
 public:
  void add(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t k = 0; k < bytes; ++k) hash_ = (hash_ ^ p[k]) * 1099511628211ull;
  }
  void add(double v) { add(&v, sizeof v); }
  void add(long v) { add(&v, sizeof v); }
  // Sizes first, so that no two different sequences of texts and vectors hash alike by shifting.
  void add(const std::string& text) {
    add(static_cast<long>(text.size()));
    add(text.data(), text.size());
  }
  void add(const std::vector<double>& values) {
    add(static_cast<long>(values.size()));
    if (!values.empty()) add(values.data(), values.size() * sizeof(double));
  }
  std::string hex() const {  // 16 hex digits
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  std::uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace pfode
