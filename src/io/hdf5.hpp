// Thin RAII layer over the HDF5 C API: every handle closes itself and every call is checked;
// a failure throws std::runtime_error naming the object and, where the system gave one, its reason
// ("No space left on device"), so no half-done write goes unnoticed.
#pragma once

#include <hdf5.h>

#include <functional>
#include <string>
#include <vector>

namespace pfode::io {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, const std::string& what);
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid_t id() const { return id_; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// A group (or the file's root group) to read and write named attributes and datasets under.
class Group {
 public:
  explicit Group(Handle handle) : handle_(std::move(handle)) {}
  hid_t id() const { return handle_.id(); }

  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  bool has(const std::string& name) const;
  bool has_attribute(const std::string& name) const;
  std::vector<std::string> children() const;  // names of links, in name order

  void write_attribute(const std::string& name, const std::string& value) const;
  void write_attribute(const std::string& name, double value) const;
  void write_attribute(const std::string& name, long value) const;
  void write_attribute(const std::string& name, const std::vector<long>& values) const;
  std::string read_string_attribute(const std::string& name) const;
  double read_double_attribute(const std::string& name) const;
  long read_long_attribute(const std::string& name) const;
  std::vector<long> read_long_vector_attribute(const std::string& name) const;

  // Row-major dataset with the given shape (product must equal values.size()).
  void write_dataset(const std::string& name, const std::vector<double>& values, const std::vector<hsize_t>& shape) const;
  void write_dataset(const std::string& name, const std::vector<long>& values) const;
  // The same from a row-major array of the shape's size (large arrays, without a copy).
  void write_dataset(const std::string& name, const double* values, const std::vector<hsize_t>& shape) const;
  void write_string_dataset(const std::string& name, const std::string& text) const;
  // Opaque bytes (a record encoded by the caller) as a 1-D dataset of unsigned 8-bit integers.
  void write_bytes_dataset(const std::string& name, const std::vector<unsigned char>& bytes) const;
  std::vector<unsigned char> read_bytes_dataset(const std::string& name) const;
  std::vector<hsize_t> dataset_shape(const std::string& name) const;
  // Into `values`, which holds `count` doubles: fails unless the dataset holds exactly that many.
  void read_dataset(const std::string& name, double* values, size_t count) const;
  std::vector<double> read_dataset(const std::string& name, std::vector<hsize_t>* shape = nullptr) const;
  std::vector<long> read_long_dataset(const std::string& name) const;
  std::string read_string_dataset(const std::string& name) const;

 private:
  Handle handle_;
};

class File {
 public:
  // Fails if the file exists. `user_block`: bytes at the start of the file HDF5 leaves alone
  // (0, or a power of 2 >= 512). `in_memory`: the file is built in memory and written out by
  // flush() (or when closed) in a few large writes instead of one per metadata entry (HDF5's
  // core driver): much faster for files of many small records, at the cost of the file's size
  // in memory until it is closed.
  static File create(const std::string& path, hsize_t user_block = 0, bool in_memory = false);
  // `in_memory`: the whole file is read at once into memory (HDF5's core driver), for small files
  // of many records.
  static File open_read(const std::string& path, bool in_memory = false);
  static File open_write(const std::string& path);
  Group root() const;
  void flush() const;

 private:
  explicit File(Handle h, std::string path) : handle_(std::move(h)), path_(std::move(path)) {}
  Handle handle_;
  std::string path_;
};

// Writes the new file `path` through write(root) into a hidden temporary beside it, renamed into
// place once complete: `path` never holds a half-written file, and a failure removes the temporary.
// `checksum`: the file's first 512 bytes (an HDF5 user block, which h5py and h5dump skip) hold a
// fingerprint of all the bytes after them, written once the file is complete (checksum_holds).
// `in_memory`: as for File::create.
void write_file_atomically(const std::string& path, const std::function<void(const Group&)>& write,
                           bool checksum = false, bool in_memory = false);

// Whether `path` is a file written with a checksum whose bytes still match it: false for a file
// that is missing, unreadable, truncated, zeroed, edited in any byte, or written without one.
bool checksum_holds(const std::string& path);

// Removes the temporaries write_file_atomically(path) leaves when its process is killed.
void remove_stale_temporaries(const std::string& path);

// A dataset's shape as messages give it: "4 x 3", "16", or "a scalar".
std::string shape_text(const std::vector<hsize_t>& shape);

// Call once, before any other HDF5 use: turns HDF5's own error printing off (errors are reported
// by exceptions) and its exit-time cleanup, which crashes closing a file whose flush failed (disk
// full) -- every handle pfode opens is closed by its owner anyway.
void configure_hdf5();

}  // namespace pfode::io
