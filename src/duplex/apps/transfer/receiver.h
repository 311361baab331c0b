// Public. The receiving end of a transfer: checks the offer (paths stay under the target
// directory; room on its file system; what exists already), answers what it holds so the
// sender can resume or skip, writes each file beside its final name as
// ".NAME.duplex-part", and renames it into place only when its SHA-256 matches the
// sender's, with the sender's permission bits and modification time. A part left by a
// broken transfer is resumed by the next one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "duplex/apps/transfer/dest_dir.h"
#include "duplex/apps/transfer/session.h"
#include "duplex/apps/transfer/sha256.h"
#include "duplex/apps/transfer/transfer_protocol.h"

namespace duplex::transfer {

struct ReceiveOptions {
  std::string dir = ".";   // where the offered paths go (it must exist)
  bool overwrite = false;  // replace a file that exists with other bytes
};

class Receiver final : public Session {
 public:
  Receiver(ReceiveOptions options, Events events);
  ~Receiver() override;

  void start(const TcpConnectionPtr& c) override;
  void on_message(const TcpConnectionPtr& c, Buffer& in) override;
  void on_write_complete(const TcpConnectionPtr& c) override;

  // The part file's name for `path` (relative to the directory), for tests and messages.
  static std::string part_path(const std::string& path);

 private:
  // What we hold of one entry, hashed in slices before the reply.
  struct Check {
    std::size_t index = 0;
    bool complete = false;  // the final name, else the part
    std::uint64_t bytes = 0;
    std::uint64_t at = 0;
    Fd fd;
    Sha256 sha;
  };
  bool take_offer(const TcpConnectionPtr& c, const std::string& payload);
  bool check_offer(const TcpConnectionPtr& c);
  bool plan_file(const TcpConnectionPtr& c, std::size_t index);
  void check_step(const TcpConnectionPtr& c);
  bool begin_file(const TcpConnectionPtr& c, const std::string& payload);
  bool take_data(const TcpConnectionPtr& c, Buffer& in);
  bool finish_file(const TcpConnectionPtr& c, Buffer& in);
  bool skip_to(const TcpConnectionPtr& c, std::size_t index);
  void finish(const TcpConnectionPtr& c);
  std::string closed_early() const override;
  std::string shown(const std::string& path) const { return options_.dir + "/" + path; }

  ReceiveOptions options_;
  enum class Phase { kOffer, kChecking, kFiles, kData, kTrailer, kEnded } phase_ = Phase::kOffer;
  DestDir dest_;
  Offer offer_;
  Reply reply_;
  std::vector<Check> checks_;
  std::size_t next_check_ = 0;
  std::map<std::size_t, Sha256> prefixes_;  // entry -> hash of the part file we hold
  std::size_t next_ = 0;                    // the first entry not yet sent or skipped
  std::size_t index_ = 0;                   // the file being received
  Fd dir_;                                  // its directory
  std::string leaf_;                        // its name there
  Fd fd_;                                   // its part file
  std::uint64_t left_ = 0;
  std::uint64_t offset_ = 0;
  std::optional<Sha256> sha_;
  std::chrono::steady_clock::time_point began_;
};

}  // namespace duplex::transfer
