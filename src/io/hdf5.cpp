#include "io/hdf5.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "common/fingerprint.hpp"

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
  Handle space = simple_space({static_cast<hsize_t>(values.size())});
  Handle set(H5Dcreate2(id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Dclose, "create dataset " + name);
  if (!values.empty())
    check(H5Dwrite(set.id(), H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
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
  Handle set(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(H5Dget_space(set.id()), H5Sclose, "dataspace of " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<long> v(n > 0 ? n : 0);
  if (!v.empty()) check(H5Dread(set.id(), H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
  return v;
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

namespace {

// The values of attribute `name` of object `owner`, as Fingerprint bytes: its type class, its
// element count and its values (integers as 64-bit, reals as doubles, strings with their length).
void add_attribute(Fingerprint& f, const Group& owner, const std::string& name) {
  Handle attr(H5Aopen(owner.id(), name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle type(H5Aget_type(attr.id()), H5Tclose, "attribute type " + name);
  Handle space(H5Aget_space(attr.id()), H5Sclose, "attribute space " + name);
  const H5T_class_t kind = H5Tget_class(type.id());
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  f.add(name);
  f.add(static_cast<long>(kind));
  f.add(static_cast<long>(n));
  if (kind == H5T_STRING) {
    f.add(owner.read_string_attribute(name));
  } else if (kind == H5T_INTEGER) {
    std::vector<long> v(n > 0 ? n : 0);
    if (!v.empty()) check(H5Aread(attr.id(), H5T_NATIVE_LONG, v.data()), "read attribute " + name);
    f.add(v.data(), v.size() * sizeof(long));
  } else if (kind == H5T_FLOAT) {
    std::vector<double> v(n > 0 ? n : 0);
    if (!v.empty()) check(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, v.data()), "read attribute " + name);
    f.add(v.data(), v.size() * sizeof(double));
  } else {
    throw std::runtime_error("HDF5: attribute " + name + " has a type pfode does not write");
  }
}

void add_dataset(Fingerprint& f, const Group& owner, const std::string& name) {
  Handle set(H5Dopen2(owner.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle type(H5Dget_type(set.id()), H5Tclose, "type of " + name);
  const H5T_class_t kind = H5Tget_class(type.id());
  f.add(name);
  f.add(static_cast<long>(kind));
  for (hsize_t d : owner.dataset_shape(name)) f.add(static_cast<long>(d));
  if (kind == H5T_STRING) {
    f.add(owner.read_string_dataset(name));
  } else if (kind == H5T_INTEGER) {
    const auto v = owner.read_long_dataset(name);
    f.add(v.data(), v.size() * sizeof(long));
  } else if (kind == H5T_FLOAT) {
    const auto v = owner.read_dataset(name);
    f.add(v.data(), v.size() * sizeof(double));
  } else {
    throw std::runtime_error("HDF5: dataset " + name + " has a type pfode does not write");
  }
}

}  // namespace

std::vector<std::string> Group::attribute_names() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  hsize_t at = 0;
  check(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, &at, collect, &names), "list attributes");
  return names;
}

std::string Group::content_hash(const std::set<std::string>& skip) const {
  Fingerprint f;
  for (const auto& name : attribute_names())
    if (!skip.count(name)) add_attribute(f, *this, name);
  for (const auto& name : children()) {
    if (skip.count(name)) continue;
    Handle object(H5Oopen(id(), name.c_str(), H5P_DEFAULT), H5Oclose, "open " + name);
    const H5I_type_t kind = H5Iget_type(object.id());
    if (kind == H5I_GROUP) {
      f.add(name);
      f.add(open_group(name).content_hash());
    } else if (kind == H5I_DATASET) {
      add_dataset(f, *this, name);
    } else {
      throw std::runtime_error("HDF5: " + name + " is neither a group nor a dataset");
    }
  }
  return f.hex();
}

File File::create(const std::string& path) {
  return File(Handle(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create file " + path),
              path);
}

namespace {

// Temporaries of write_file_atomically(path): "<dir>/.<name>.tmp.<pid>".
std::filesystem::path temporary_prefix(const std::string& path) {
  const std::filesystem::path target(path);
  return target.parent_path() / ("." + target.filename().string() + ".tmp.");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(const Group&)>& write) {
  const std::string tmp = temporary_prefix(path).string() + std::to_string(getpid());
  std::remove(tmp.c_str());
  try {
    {
      const File file = File::create(tmp);
      write(file.root());
      file.flush();
    }
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

File File::open_read(const std::string& path) {
  return File(Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open file " + path), path);
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
