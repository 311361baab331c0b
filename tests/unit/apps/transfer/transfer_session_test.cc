// Sender and Receiver over loopback, on one loop: a tree arrives whole (bytes, modes, times),
// a part left by a broken transfer is resumed, the same bytes are skipped, other bytes are
// refused without --overwrite; a corrupted file, a path out of the directory and a peer that
// speaks something else are refused with a line that says why.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../../transport/loopback.h"
#include "duplex/apps/transfer/receiver.h"
#include "duplex/apps/transfer/sender.h"
#include "duplex/apps/transfer/sha256.h"
#include "duplex/reactor/event_loop.h"
#include "duplex/transport/tcp_client.h"
#include "duplex/transport/tcp_server.h"

namespace duplex::transfer {
namespace {

namespace fs = std::filesystem;

struct End {
  std::optional<Outcome> outcome;
  std::vector<FileReport> files;
  Events events() {
    Events ev;
    ev.file = [this](const FileReport& f) { files.push_back(f); };
    ev.end = [this](const Outcome& o) { outcome = o; };
    return ev;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TransferSession : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/duplex-transfer-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/from");
    fs::create_directories(root_ + "/to");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& bytes) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel, std::ios::binary) << bytes;
  }

  // Receives into to/ what a Sender offers of `paths` (under from/), until both ends end.
  void transfer(const std::vector<std::string>& paths, ReceiveOptions ro = {},
                SendOptions so = {}) {
    std::vector<std::string> local;
    for (const auto& p : paths) local.push_back(root_ + "/from/" + p);
    auto source = std::make_shared<const Source>(collect(local));
    ro.dir = root_ + "/to";
    EventLoop loop;
    TcpServer server(&loop, test::loopback(), "receive");
    run_sessions(server, [&](const TcpConnectionPtr&) -> SessionPtr {
      return std::make_shared<Receiver>(ro, received_.events());
    });
    server.start();
    TcpClient client(&loop, {server.listen_endpoint()}, "send");
    run_sessions(client, [&](const TcpConnectionPtr&) -> SessionPtr {
      return std::make_shared<Sender>(source, so, sent_.events());
    });
    client.connect();
    loop.run_every(std::chrono::milliseconds(2), [&] {
      if (sent_.outcome && received_.outcome) loop.quit();
    });
    loop.run_after(std::chrono::seconds(30), [&] { loop.quit(); });
    loop.loop();
    ASSERT_TRUE(sent_.outcome && received_.outcome) << "the transfer did not end in 30 s";
  }

  // Receives into to/ what a raw client sends (`wire`); returns what the receiver answered.
  std::string raw_sender(const std::string& wire) {
    EventLoop loop;
    TcpServer server(&loop, test::loopback(), "receive");
    ReceiveOptions ro;
    ro.dir = root_ + "/to";
    run_sessions(server, [&](const TcpConnectionPtr&) -> SessionPtr {
      return std::make_shared<Receiver>(ro, received_.events());
    });
    server.start();
    std::string answer;
    std::atomic<bool> peer_done{false};
    std::thread peer([&, where = server.listen_endpoint()] {
      test::Client c(where);
      c.send_all(wire);
      c.shutdown_write();
      answer = c.receive_until_eof().value_or("(timed out)");
      peer_done = true;
    });
    loop.run_every(std::chrono::milliseconds(2), [&] {
      if (received_.outcome && peer_done) loop.quit();
    });
    loop.run_after(std::chrono::seconds(30), [&] { loop.quit(); });
    loop.loop();
    peer.join();
    return answer;
  }

  std::string root_;
  End sent_;
  End received_;
};

TEST_F(TransferSession, ATreeArrivesWithItsBytesModesAndTimes) {
  const std::string big = test::pattern(3 << 20, 7);
  write("from/tree/big.bin", big);
  write("from/tree/sub/small.txt", "small\n");
  write("from/tree/empty", "");
  ::chmod((root_ + "/from/tree/sub/small.txt").c_str(), 0640);
  const struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, (root_ + "/from/tree/big.bin").c_str(), times, 0);
  transfer({"tree"});
  ASSERT_TRUE(sent_.outcome->ok) << sent_.outcome->error;
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  EXPECT_EQ(sent_.outcome->files, 3u);
  EXPECT_EQ(received_.outcome->files, 3u);
  EXPECT_EQ(received_.outcome->bytes, big.size() + 6);
  EXPECT_EQ(read_file(root_ + "/to/tree/big.bin"), big);
  EXPECT_EQ(read_file(root_ + "/to/tree/sub/small.txt"), "small\n");
  EXPECT_TRUE(fs::exists(root_ + "/to/tree/empty"));
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/to/tree/sub/small.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_EQ(::stat((root_ + "/to/tree/big.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_FALSE(fs::exists(root_ + "/to/tree/.big.bin.duplex-part"));
}

TEST_F(TransferSession, APartWithTheSameFirstBytesIsResumedAndOneWithOthersStartsOver) {
  const std::string a = test::pattern(1 << 20, 1);
  const std::string b = test::pattern(1 << 20, 2);
  write("from/a.bin", a);
  write("from/b.bin", b);
  write("to/.a.bin.duplex-part", a.substr(0, 300000));
  write("to/.b.bin.duplex-part", "not the same first bytes");
  transfer({"a.bin", "b.bin"});
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  ASSERT_EQ(received_.files.size(), 2u);
  EXPECT_EQ(received_.files[0].offset, 300000u);
  EXPECT_EQ(received_.files[1].offset, 0u);
  EXPECT_EQ(sent_.files[0].offset, 300000u);
  EXPECT_EQ(received_.outcome->bytes, a.size() - 300000 + b.size());
  EXPECT_EQ(read_file(root_ + "/to/a.bin"), a);
  EXPECT_EQ(read_file(root_ + "/to/b.bin"), b);
}

TEST_F(TransferSession, TheSameBytesAreSkippedAndOtherBytesNeedOverwrite) {
  write("from/same.txt", "same");
  write("from/other.txt", "new!");
  write("to/same.txt", "same");
  write("to/other.txt", "old!");
  transfer({"same.txt", "other.txt"});
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("--overwrite"), std::string::npos)
      << received_.outcome->error;
  EXPECT_FALSE(sent_.outcome->ok);
  EXPECT_NE(sent_.outcome->error.find("the receiver refused"), std::string::npos)
      << sent_.outcome->error;
  EXPECT_EQ(read_file(root_ + "/to/other.txt"), "old!");

  sent_ = {};
  received_ = {};
  ReceiveOptions ro;
  ro.overwrite = true;
  transfer({"same.txt", "other.txt"}, ro);
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  EXPECT_EQ(received_.outcome->skipped, 1u);
  ASSERT_EQ(received_.files.size(), 2u);
  EXPECT_TRUE(received_.files[0].skipped);
  EXPECT_FALSE(received_.files[1].skipped);
  EXPECT_EQ(received_.outcome->bytes, 4u);
  EXPECT_EQ(read_file(root_ + "/to/other.txt"), "new!");
}

TEST_F(TransferSession, ARateLimitedTransferStillArrivesWhole) {
  const std::string data = test::pattern(600000, 3);
  write("from/slow.bin", data);
  SendOptions so;
  so.rate = 4 << 20;
  transfer({"slow.bin"}, {}, so);
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  EXPECT_EQ(read_file(root_ + "/to/slow.bin"), data);
}

std::string offer_of(const std::vector<Entry>& entries) {
  Offer o;
  o.entries = entries;
  // encode_offer checks nothing: a hostile sender can send any path.
  return encode_frame(FrameType::kOffer, encode_offer(o));
}

std::string offer_of(const std::string& path, std::uint64_t size) {
  return offer_of({{path, size, 0644, 0, false}});
}

TEST_F(TransferSession, AnEmptyFileThatIsThereAlreadyIsSkipped) {
  write("from/empty", "");
  write("to/empty", "");
  transfer({"empty"});
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  ASSERT_TRUE(sent_.outcome->ok) << sent_.outcome->error;
  EXPECT_EQ(received_.outcome->skipped, 1u);
}

// A part past one hashing slice (64 MiB) is hashed over several loop rounds on both ends,
// with keep-alive frames between, and still resumed at its end.
TEST_F(TransferSession, APartLargerThanOneHashingSliceIsResumed) {
  const std::string data = test::pattern((65u << 20) + 12345, 9);
  write("from/large.bin", data);
  write("to/.large.bin.duplex-part", data.substr(0, (64u << 20) + 7));
  transfer({"large.bin"});
  ASSERT_TRUE(received_.outcome->ok) << received_.outcome->error;
  ASSERT_EQ(received_.files.size(), 1u);
  EXPECT_EQ(received_.files[0].offset, (64u << 20) + 7);
  EXPECT_EQ(read_file(root_ + "/to/large.bin"), data);
}

TEST_F(TransferSession, NothingIsWrittenOrChangedThroughASymbolicLinkInTheDirectory) {
  fs::create_directories(root_ + "/outside");
  ::chmod((root_ + "/outside").c_str(), 0700);
  ASSERT_EQ(::symlink((root_ + "/outside").c_str(), (root_ + "/to/cfg").c_str()), 0);
  // The whole of a hostile transfer: the offer, the file with its right digest, the end.
  Sha256 sha;
  sha.update("evil");
  const auto digest = sha.digest();
  const std::string answer =
      raw_sender(offer_of({{"cfg", 0, 0777, 0, true}, {"cfg/keys", 4, 0644, 0, false}}) +
                 encode_frame(FrameType::kFile, encode_file_header({1, 0})) + "evil" +
                 std::string(reinterpret_cast<const char*>(digest.data()), digest.size()) +
                 encode_frame(FrameType::kEnd, ""));
  ASSERT_TRUE(received_.outcome);
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("symbolic link"), std::string::npos)
      << received_.outcome->error;
  EXPECT_FALSE(fs::exists(root_ + "/outside/keys"));
  EXPECT_FALSE(fs::exists(root_ + "/outside/.keys.duplex-part"));
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/outside").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(TransferSession, OffersThatWouldCollideOnDiskAreRefused) {
  raw_sender(offer_of({{"a", 1, 0644, 0, false}, {"a/b", 1, 0644, 0, false}}));
  ASSERT_TRUE(received_.outcome);
  EXPECT_NE(received_.outcome->error.find("as a file and as a directory"), std::string::npos)
      << received_.outcome->error;
  received_ = {};
  raw_sender(offer_of({{"x", 1, 0644, 0, false}, {".x.duplex-part", 1, 0644, 0, false}}));
  ASSERT_TRUE(received_.outcome);
  EXPECT_NE(received_.outcome->error.find(".duplex-part"), std::string::npos)
      << received_.outcome->error;
  received_ = {};
  raw_sender(offer_of({{"x", 1, 0644, 0, false}, {"x", 1, 0644, 0, false}}));
  ASSERT_TRUE(received_.outcome);
  EXPECT_NE(received_.outcome->error.find("twice"), std::string::npos) << received_.outcome->error;
  EXPECT_TRUE(fs::is_empty(root_ + "/to"));
}

TEST_F(TransferSession, APeersErrorTextIsShownWithItsControlCharactersEscaped) {
  raw_sender(encode_frame(FrameType::kError, "bad\x1b[2J\nnews"));
  ASSERT_TRUE(received_.outcome);
  EXPECT_EQ(received_.outcome->error, "the sender stopped: bad\\x1b[2J\\x0anews");
}

TEST_F(TransferSession, ACorruptedFileIsRefusedAndNotPutInPlace) {
  std::string wire = offer_of("x.bin", 5);
  wire += encode_frame(FrameType::kFile, encode_file_header({0, 0}));
  wire += "hello" + std::string(kDigest, '\0');  // not the SHA-256 of "hello"
  const std::string answer = raw_sender(wire);
  ASSERT_TRUE(received_.outcome);
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("SHA-256"), std::string::npos)
      << received_.outcome->error;
  EXPECT_NE(answer.find("SHA-256"), std::string::npos) << "the sender is told: " << answer;
  EXPECT_FALSE(fs::exists(root_ + "/to/x.bin"));
  EXPECT_FALSE(fs::exists(root_ + "/to/.x.bin.duplex-part"));
}

TEST_F(TransferSession, APathOutOfTheDirectoryIsRefusedBeforeAnythingIsWritten) {
  const std::string answer = raw_sender(offer_of("../escaped.txt", 3));
  ASSERT_TRUE(received_.outcome);
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("\"..\""), std::string::npos) << received_.outcome->error;
  EXPECT_EQ(answer.substr(0, 1), "E");
  EXPECT_FALSE(fs::exists(root_ + "/escaped.txt"));
}

TEST_F(TransferSession, APeerThatSpeaksSomethingElseIsToldAndCutOff) {
  const std::string answer = raw_sender("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(received_.outcome);
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("does not speak duplex transfer"), std::string::npos);
  EXPECT_NE(answer.find("does not speak duplex transfer"), std::string::npos) << answer;
}

TEST_F(TransferSession, ASenderThatGoesAwayMidFileLeavesAPartToResume) {
  std::string wire = offer_of("half.bin", 10);
  wire += encode_frame(FrameType::kFile, encode_file_header({0, 0})) + "01234";
  raw_sender(wire);  // the client closes after its bytes
  ASSERT_TRUE(received_.outcome);
  EXPECT_FALSE(received_.outcome->ok);
  EXPECT_NE(received_.outcome->error.find("kept and resumed"), std::string::npos)
      << received_.outcome->error;
  EXPECT_EQ(read_file(root_ + "/to/.half.bin.duplex-part"), "01234");
}

}  // namespace
}  // namespace duplex::transfer
