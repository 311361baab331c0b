// The wire protocol of duplex send/receive: frames, offers, replies, headers, paths; and
// what `collect` offers for the paths named on a command line.
#include "duplex/apps/transfer/transfer_protocol.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "duplex/apps/transfer/source.h"
#include "duplex/base/error.h"
#include "duplex/reactor/buffer.h"

namespace duplex::transfer {
namespace {

TEST(TransferFrame, ComesBackWholeOnlyOnceEveryByteIsThere) {
  const std::string wire =
      encode_frame(FrameType::kError, "no room") + encode_frame(FrameType::kEnd, "");
  Buffer in;
  for (std::size_t i = 0; i < 11; ++i) {
    in.append(wire.substr(i, 1));
    EXPECT_FALSE(take_frame(in)) << "after byte " << i;
  }
  in.append(wire.substr(11));
  auto first = take_frame(in);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, FrameType::kError);
  EXPECT_EQ(first->payload, "no room");
  auto second = take_frame(in);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, FrameType::kEnd);
  EXPECT_EQ(second->payload, "");
  EXPECT_EQ(in.readable_bytes(), 0u);
}

TEST(TransferFrame, APeerThatSpeaksSomethingElseIsNamed) {
  Buffer in;
  in.append("GET / HTTP/1.1\r\n");
  try {
    take_frame(in);
    FAIL() << "an HTTP request was taken for a frame";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("does not speak duplex transfer"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("GET / HTTP/1.1"), std::string::npos) << e.what();
  }
}

TEST(TransferFrame, ALengthPastTheLimitIsRefusedBeforeItsBytesArrive) {
  Buffer in;
  in.append(std::string("O\xff\xff\xff\xff", 5));
  EXPECT_THROW(take_frame(in), ParseError);
}

TEST(TransferPath, OnlyRelativePathsWithoutDotDotPass) {
  EXPECT_EQ(path_problem("a/b/c.txt"), std::nullopt);
  EXPECT_EQ(path_problem("..hidden/x..y"), std::nullopt);
  EXPECT_EQ(path_problem("sp ace/ünïcode"), std::nullopt);
  EXPECT_TRUE(path_problem(""));
  EXPECT_TRUE(path_problem("/etc/passwd"));
  EXPECT_TRUE(path_problem("../x"));
  EXPECT_TRUE(path_problem("a/../../x"));
  EXPECT_TRUE(path_problem("a/./b"));
  EXPECT_TRUE(path_problem("a//b"));
  EXPECT_TRUE(path_problem("a/"));
  EXPECT_TRUE(path_problem(std::string("a\0b", 3)));
  EXPECT_TRUE(path_problem("line\nbreak"));
  EXPECT_TRUE(path_problem(std::string(256, 'x')));
  EXPECT_EQ(path_problem(std::string(255, 'x')), std::nullopt);
  std::string deep;
  for (int i = 0; i < 17; ++i) deep += std::string(250, 'x') + "/";
  EXPECT_TRUE(path_problem(deep + "f"));  // past PATH_MAX
}

Offer sample_offer() {
  Offer o;
  o.entries.push_back({"photos", 0, 0755, 1700000000, true});
  o.entries.push_back({"photos/a.jpg", 123456, 0640, 1700000001, false});
  o.entries.push_back({"notes.txt", 0, 0600, -5, false});
  return o;
}

TEST(TransferOffer, RoundTrips) {
  const Offer o = sample_offer();
  const Offer back = decode_offer(encode_offer(o));
  ASSERT_EQ(back.entries.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.entries[i].path, o.entries[i].path);
    EXPECT_EQ(back.entries[i].size, o.entries[i].size);
    EXPECT_EQ(back.entries[i].mode, o.entries[i].mode);
    EXPECT_EQ(back.entries[i].mtime, o.entries[i].mtime);
    EXPECT_EQ(back.entries[i].dir, o.entries[i].dir);
  }
  EXPECT_EQ(back.total_bytes(), 123456u);
  EXPECT_EQ(back.files(), 2u);
}

std::string why_refused(const std::string& json) {
  try {
    decode_offer(json);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(TransferOffer, EachBadOfferSaysWhy) {
  EXPECT_NE(why_refused("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(why_refused(R"({"version":1,"entries":[]})").find("duplex-transfer"),
            std::string::npos);
  EXPECT_NE(
      why_refused(R"({"protocol":"duplex-transfer","version":2,"entries":[]})").find("version 1"),
      std::string::npos);
  const std::string head = R"({"protocol":"duplex-transfer","version":1,"entries":[)";
  EXPECT_NE(why_refused(head + R"({"path":"../x","size":1,"mode":420,"mtime":0,"dir":false}]})")
                .find("\"..\""),
            std::string::npos);
  EXPECT_NE(why_refused(head + R"({"path":"/x","size":1,"mode":420,"mtime":0,"dir":false}]})")
                .find("absolute"),
            std::string::npos);
  EXPECT_NE(why_refused(head + R"({"path":"d","size":1,"mode":420,"mtime":0,"dir":true}]})")
                .find("directory with a size"),
            std::string::npos);
  EXPECT_NE(why_refused(head + R"({"path":"x","size":-1,"mode":420,"mtime":0,"dir":false}]})")
                .find("\"size\""),
            std::string::npos);
  EXPECT_NE(why_refused(head + R"({"path":"x","size":1,"mode":65535,"mtime":0,"dir":false}]})")
                .find("\"mode\""),
            std::string::npos);
  EXPECT_EQ(why_refused(head + R"({"path":"x","size":1,"mode":420,"mtime":0,"dir":false}]})"), "");
}

TEST(TransferOffer, SizesThatWouldOverflowTheirSumAreRefused) {
  Offer o;
  for (int i = 0; i < 4; ++i)
    o.entries.push_back({"f" + std::to_string(i), kMaxTotal, 0644, 0, false});
  EXPECT_THROW(decode_offer(encode_offer(o)), ParseError);
}

TEST(TransferPrintable, EscapesControlCharactersAndInvalidUtf8AndCuts) {
  EXPECT_EQ(printable("plain ünïcode"), "plain ünïcode");
  EXPECT_EQ(printable("a\x1b[31mb\n"), "a\\x1b[31mb\\x0a");
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(TransferReply, NeedsOneHavePerEntryAndRealDigests) {
  Reply r;
  r.have.push_back({0, "", false});
  r.have.push_back({10, std::string(64, 'a'), true});
  const Reply back = decode_reply(encode_reply(r), 2);
  ASSERT_EQ(back.have.size(), 2u);
  EXPECT_EQ(back.have[1].bytes, 10u);
  EXPECT_TRUE(back.have[1].complete);
  EXPECT_THROW(decode_reply(encode_reply(r), 3), ParseError);
  r.have[1].sha256 = std::string(64, 'G');
  EXPECT_THROW(decode_reply(encode_reply(r), 2), ParseError);
}

TEST(TransferFileHeader, RoundTripsAndHasOneSize) {
  const FileHeader h{7, (std::uint64_t{1} << 40) + 3};
  const FileHeader back = decode_file_header(encode_file_header(h));
  EXPECT_EQ(back.index, 7u);
  EXPECT_EQ(back.offset, h.offset);
  EXPECT_THROW(decode_file_header("short"), ParseError);
}

TEST(TransferDone, RoundTrips) {
  const Done d = decode_done(encode_done({3, 1000, 1}));
  EXPECT_EQ(d.files, 3u);
  EXPECT_EQ(d.bytes, 1000u);
  EXPECT_EQ(d.skipped, 1u);
  EXPECT_THROW(decode_done("{}"), ParseError);
}

class TransferSource : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/duplex-source-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& rel, const std::string& bytes) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << bytes;
  }
  std::string dir_;
};

TEST_F(TransferSource, ADirectoryIsOfferedUnderItsNameInNameOrder) {
  write("tree/b.txt", "bb");
  write("tree/a/z.txt", "z");
  write("tree/a/y.txt", "");
  write("single.txt", "12345");
  ASSERT_EQ(::symlink("b.txt", (dir_ + "/tree/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ + "/tree/fifo").c_str(), 0600), 0);
  const Source s = collect({dir_ + "/tree/", dir_ + "/single.txt"});
  std::vector<std::string> paths;
  for (const auto& e : s.offer.entries) paths.push_back(e.path + (e.dir ? "/" : ""));
  EXPECT_EQ(paths, (std::vector<std::string>{"tree/", "tree/a/", "tree/a/y.txt", "tree/a/z.txt",
                                             "tree/b.txt", "single.txt"}));
  EXPECT_EQ(s.local.back(), dir_ + "/single.txt");
  EXPECT_EQ(s.offer.total_bytes(), 8u);
  ASSERT_EQ(s.left_out.size(), 2u);
  EXPECT_NE(s.left_out[0].find("fifo"), std::string::npos);
  EXPECT_NE(s.left_out[1].find("symbolic link"), std::string::npos);
}

TEST_F(TransferSource, MissingPathsAndTwiceNamedOnesAreRefused) {
  write("x/same.txt", "1");
  write("y/same.txt", "2");
  EXPECT_THROW(collect({dir_ + "/nothing-here"}), Error);
  EXPECT_THROW(collect({dir_ + "/x/same.txt", dir_ + "/y/same.txt"}), Error);
  EXPECT_THROW(collect({"/"}), Error);
}

}  // namespace
}  // namespace duplex::transfer
