// A fresh directory under TMPDIR for a test's chat database, removed afterwards.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace duplex::test {

class TempDb {
 public:
  TempDb() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "duplex-hub-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  ~TempDb() { std::filesystem::remove_all(dir_); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  std::string path() const { return (dir_ / "chat.db").string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace duplex::test
