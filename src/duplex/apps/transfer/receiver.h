// Public. The receiving end of a transfer: checks the offer (paths stay under the target
// directory; room on its file system; what exists already), answers what it holds so the
// sender can resume or skip, writes each file beside its final name as
// ".NAME.duplex-part", and renames it into place only when its SHA-256 matches the
// sender's, with the sender's permission bits and modification time. A part left by a
// broken transfer is resumed by the next one.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

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

  // The part file's name for `path` (relative to the directory), for tests and messages.
  static std::string part_path(const std::string& path);

 private:
  bool take_offer(const TcpConnectionPtr& c, const std::string& payload);
  bool begin_file(const TcpConnectionPtr& c, const std::string& payload);
  bool take_data(const TcpConnectionPtr& c, Buffer& in);
  bool finish_file(const TcpConnectionPtr& c, Buffer& in);
  bool skip_to(const TcpConnectionPtr& c, std::size_t index);
  void finish(const TcpConnectionPtr& c);
  std::string closed_early() const override;
  std::string local(const std::string& path) const { return options_.dir + "/" + path; }

  ReceiveOptions options_;
  enum class Phase { kOffer, kFiles, kData, kTrailer, kEnded } phase_ = Phase::kOffer;
  Offer offer_;
  Reply reply_;
  std::map<std::size_t, Sha256> prefixes_;  // entry -> hash of the part file we hold
  std::size_t next_ = 0;                    // the first entry not yet sent or skipped
  std::size_t index_ = 0;                   // the file being received
  int fd_ = -1;
  std::uint64_t left_ = 0;
  std::uint64_t offset_ = 0;
  std::optional<Sha256> sha_;
  std::chrono::steady_clock::time_point began_;
};

}  // namespace duplex::transfer
