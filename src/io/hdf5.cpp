#include "io/hdf5.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>


namespace pfode::io {

namespace {
// The operating system's reason for the HDF5 call that just failed ("No space left on device"):
// HDF5's file drivers record it in the error stack as "errno = N"; empty when none is recorded.
std::string system_cause() {
  int code = 0;
  auto visit = [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
    const char* at = error->desc ? std::strstr(error->desc, "errno = ") : nullptr;
    if (at) *static_cast<int*>(data) = std::atoi(at + 8);
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, visit, &code);
  return code > 0 ? std::strerror(code) : "";
}
[[noreturn]] void fail(const std::string& what) {
  const std::string cause = system_cause();
  throw std::runtime_error("HDF5: " + what + " failed" + (cause.empty() ? "" : " (" + cause + ")"));
}
void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}
// Variable-length UTF-8, so h5py reads str (not bytes) and h5dump prints the text.
Handle string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), "string type size");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "string type charset");
  return type;
}
Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR), H5Sclose, "scalar dataspace"); }
Handle simple_space(const std::vector<hsize_t>& shape) {
  return Handle(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose, "dataspace");
}
// A 1-D dataset of `values`: `file_type` in the file, `memory_type` as T in memory.
template <class T>
void write_vector(hid_t group, const std::string& name, hid_t file_type, hid_t memory_type, const std::vector<T>& values) {
  Handle space = simple_space({static_cast<hsize_t>(values.size())});
  Handle set(H5Dcreate2(group, name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             "create dataset " + name);
  if (!values.empty())
    check(H5Dwrite(set.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
}
// Every value of a dataset, flattened, as T (`memory_type`).
template <class T>
std::vector<T> read_vector(hid_t group, const std::string& name, hid_t memory_type) {
  Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(H5Dget_space(set.id()), H5Sclose, "dataspace of " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<T> v(n > 0 ? n : 0);
  if (!v.empty()) check(H5Dread(set.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
  return v;
}
}  // namespace

Handle::Handle(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
  if (id < 0) fail(what);
}
Handle::Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = std::exchange(other.id_, -1);
    closer_ = other.closer_;
  }
  return *this;
}
Handle::~Handle() {
  if (id_ >= 0 && closer_) closer_(id_);
}

Group Group::create_group(const std::string& name) const {
  return Group(Handle(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                      "create group " + name));
}
Group Group::open_group(const std::string& name) const {
  return Group(Handle(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name));
}
std::string shape_text(const std::vector<hsize_t>& shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? " x " : "") + std::to_string(shape[i]);
  return shape.empty() ? "a scalar" : text;
}

bool Group::has(const std::string& name) const { return H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0; }
bool Group::has_attribute(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), "list group");
  return names;
}

void Group::write_attribute(const std::string& name, const std::string& value) const {
  Handle type = string_type();
  Handle space = scalar_space();
  Handle attr(H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "create attribute " + name);
  const char* text = value.c_str();
  check(H5Awrite(attr.id(), type.id(), &text), "write attribute " + name);
}
void Group::write_attribute(const std::string& name, double value) const {
  Handle space = scalar_space();
  Handle attr(H5Acreate2(id(), name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "create attribute " + name);
  check(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), "write attribute " + name);
}
void Group::write_attribute(const std::string& name, long value) const {
  Handle space = scalar_space();
  Handle attr(H5Acreate2(id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "create attribute " + name);
  check(H5Awrite(attr.id(), H5T_NATIVE_LONG, &value), "write attribute " + name);
}
void Group::write_attribute(const std::string& name, const std::vector<long>& values) const {
  Handle space = simple_space({static_cast<hsize_t>(values.size())});
  Handle attr(H5Acreate2(id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "create attribute " + name);
  if (!values.empty()) check(H5Awrite(attr.id(), H5T_NATIVE_LONG, values.data()), "write attribute " + name);
}

std::string Group::read_string_attribute(const std::string& name) const {
  Handle attr(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle type(H5Aget_type(attr.id()), H5Tclose, "attribute type " + name);
  if (H5Tget_class(type.id()) != H5T_STRING) throw std::runtime_error("HDF5: attribute " + name + " is not a string");
  if (H5Tis_variable_str(type.id()) > 0) {
    char* text = nullptr;
    check(H5Aread(attr.id(), type.id(), &text), "read attribute " + name);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  std::string out(H5Tget_size(type.id()), '\0');
  check(H5Aread(attr.id(), type.id(), out.data()), "read attribute " + name);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}
double Group::read_double_attribute(const std::string& name) const {
  Handle attr(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  double v = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), "read attribute " + name);
  return v;
}
long Group::read_long_attribute(const std::string& name) const {
  Handle attr(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  long v = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_LONG, &v), "read attribute " + name);
  return v;
}
std::vector<long> Group::read_long_vector_attribute(const std::string& name) const {
  Handle attr(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle space(H5Aget_space(attr.id()), H5Sclose, "attribute space " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<long> v(n > 0 ? n : 0);
  if (!v.empty()) check(H5Aread(attr.id(), H5T_NATIVE_LONG, v.data()), "read attribute " + name);
  return v;
}

void Group::write_dataset(const std::string& name, const std::vector<double>& values,
                          const std::vector<hsize_t>& shape) const {
  hsize_t count = 1;
  for (hsize_t d : shape) count *= d;
  if (count != values.size()) throw std::logic_error("dataset " + name + ": shape does not match the data");
  write_dataset(name, values.data(), shape);
}
void Group::write_dataset(const std::string& name, const double* values, const std::vector<hsize_t>& shape) const {
  hsize_t count = 1;
  for (hsize_t d : shape) count *= d;
  Handle space = simple_space(shape);
  Handle set(H5Dcreate2(id(), name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Dclose, "create dataset " + name);
  if (count > 0) check(H5Dwrite(set.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "write " + name);
}
void Group::write_dataset(const std::string& name, const std::vector<long>& values) const {
  write_vector(id(), name, H5T_STD_I64LE, H5T_NATIVE_LONG, values);
}
void Group::write_bytes_dataset(const std::string& name, const std::vector<unsigned char>& bytes) const {
  write_vector(id(), name, H5T_STD_U8LE, H5T_NATIVE_UCHAR, bytes);
}
void Group::write_string_dataset(const std::string& name, const std::string& text) const {
  Handle type = string_type();
  Handle space = scalar_space();
  Handle set(H5Dcreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             "create dataset " + name);
  const char* data = text.c_str();
  check(H5Dwrite(set.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &data), "write " + name);
}

std::vector<double> Group::read_dataset(const std::string& name, std::vector<hsize_t>* shape) const {
  const auto dims = dataset_shape(name);
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  std::vector<double> v(count);
  read_dataset(name, v.data(), v.size());
  if (shape) *shape = dims;
  return v;
}
std::vector<hsize_t> Group::dataset_shape(const std::string& name) const {
  Handle set(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(H5Dget_space(set.id()), H5Sclose, "dataspace of " + name);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail("rank of " + name);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  return dims;
}
void Group::read_dataset(const std::string& name, double* values, size_t count) const {
  Handle set(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(H5Dget_space(set.id()), H5Sclose, "dataspace of " + name);
  if (H5Sget_simple_extent_npoints(space.id()) != static_cast<hssize_t>(count))
    throw std::runtime_error("HDF5: dataset " + name + " does not hold " + std::to_string(count) + " values");
  if (count > 0) check(H5Dread(set.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "read " + name);
}
std::vector<long> Group::read_long_dataset(const std::string& name) const {
  return read_vector<long>(id(), name, H5T_NATIVE_LONG);
}
std::vector<unsigned char> Group::read_bytes_dataset(const std::string& name) const {
  return read_vector<unsigned char>(id(), name, H5T_NATIVE_UCHAR);
}
std::string Group::read_string_dataset(const std::string& name) const {
  Handle set(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle type(H5Dget_type(set.id()), H5Tclose, "type of " + name);
  if (H5Tis_variable_str(type.id()) > 0) {
    char* text = nullptr;
    check(H5Dread(set.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), "read " + name);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  std::string out(H5Tget_size(type.id()), '\0');
  check(H5Dread(set.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read " + name);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

File File::create(const std::string& path, hsize_t user_block, bool in_memory) {
  Handle properties(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "file creation properties");
  if (user_block > 0) check(H5Pset_userblock(properties.id(), user_block), "user block of " + path);
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access properties");
  if (in_memory) check(H5Pset_fapl_core(access.id(), 1 << 20, 1), "in-memory file " + path);
  check(H5Pset_libver_bounds(access.id(), H5F_LIBVER_V18, H5F_LIBVER_V18), "format of " + path);
  return File(Handle(H5Fcreate(path.c_str(), H5F_ACC_EXCL, properties.id(), access.id()), H5Fclose,
                     "create file " + path),
              path);
}

namespace {

// Temporaries of write_file_atomically(path): "<dir>/.<name>.tmp.<pid>".
std::filesystem::path temporary_prefix(const std::string& path) {
  const std::filesystem::path target(path);
  return target.parent_path() / ("." + target.filename().string() + ".tmp.");
}

// A checksummed file: its user block (HDF5 leaves the first bytes of a file to the application)
// begins with this tag and the fingerprint of every byte after the block.
constexpr hsize_t checksum_block = 512;
const std::string checksum_tag = "pfode checksum ";

// Fingerprint of the bytes of `fd` from `offset` to its end: FNV-1a's step on 64-bit words (bytes
// of a last partial word one by one), ~8x faster than on bytes for the large reference states.
std::string fingerprint_from(int fd, off_t offset) {
  struct stat st {};
  if (fstat(fd, &st) != 0) throw std::runtime_error(std::string("stat failed (") + std::strerror(errno) + ")");
  constexpr size_t chunk = 1 << 20;  // a multiple of 8: only the last chunk has a partial word
  const size_t size = static_cast<size_t>(std::clamp<off_t>(st.st_size - offset, 1, chunk));
  const std::unique_ptr<char[]> buffer(new char[size]);  // not zeroed: most records are a few kB
  std::uint64_t hash = 14695981039346656037ull;
  for (;;) {
    size_t n = 0;  // a full chunk unless at the end of the file
    while (n < size) {
      const ssize_t got = pread(fd, buffer.get() + n, size - n, offset + static_cast<off_t>(n));
      if (got < 0) throw std::runtime_error(std::string("read failed (") + std::strerror(errno) + ")");
      if (got == 0) break;
      n += static_cast<size_t>(got);
    }
    if (n == 0) break;
    size_t at = 0;
    for (; at + 8 <= n; at += 8) {
      std::uint64_t word;
      std::memcpy(&word, buffer.get() + at, 8);
      hash = (hash ^ word) * 1099511628211ull;
    }
    for (; at < n; ++at) hash = (hash ^ static_cast<unsigned char>(buffer[at])) * 1099511628211ull;
    offset += static_cast<off_t>(n);
    if (n < size) break;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

void seal(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot reopen " + path + " (" + std::strerror(errno) + ")");
  std::string header;
  try {
    header = checksum_tag + fingerprint_from(fd, checksum_block) + "\n";
  } catch (...) {
    close(fd);
    throw;
  }
  const bool written = pwrite(fd, header.data(), header.size(), 0) == static_cast<ssize_t>(header.size());
  const int error = errno;
  if (close(fd) != 0 || !written)
    throw std::runtime_error("cannot write the checksum of " + path + " (" + std::strerror(written ? errno : error) + ")");
}

}  // namespace

bool checksum_holds(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string header(checksum_tag.size() + 17, '\0');
  bool holds = false;
  try {
    holds = pread(fd, header.data(), header.size(), 0) == static_cast<ssize_t>(header.size()) &&
            header == checksum_tag + fingerprint_from(fd, checksum_block) + "\n";
  } catch (const std::exception&) {
  }
  close(fd);
  return holds;
}

void write_file_atomically(const std::string& path, const std::function<void(const Group&)>& write, bool checksum,
                           bool in_memory) {
  const std::string tmp = temporary_prefix(path).string() + std::to_string(getpid());
  std::remove(tmp.c_str());
  try {
    {
      const File file = File::create(tmp, checksum ? checksum_block : 0, in_memory);
      write(file.root());
      file.flush();
    }
    if (checksum) seal(tmp);
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

void remove_stale_temporaries(const std::string& path) {
  const auto prefix = std::filesystem::absolute(temporary_prefix(path));
  const std::string name = prefix.filename().string();
  for (const auto& entry : std::filesystem::directory_iterator(prefix.parent_path()))
    if (entry.path().filename().string().rfind(name, 0) == 0) std::filesystem::remove(entry.path());
}

File File::open_read(const std::string& path, bool in_memory) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access properties");
  if (in_memory) check(H5Pset_fapl_core(access.id(), 1 << 20, 0), "in-memory file " + path);
  return File(Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.id()), H5Fclose, "open file " + path), path);
}
File File::open_write(const std::string& path) {
  return File(Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, "open file " + path), path);
}
Group File::root() const {
  return Group(Handle(H5Gopen2(handle_.id(), "/", H5P_DEFAULT), H5Gclose, "open root of " + path_));
}
void File::flush() const { check(H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL), "flush " + path_); }

void configure_hdf5() {
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

}  // namespace pfode::io
