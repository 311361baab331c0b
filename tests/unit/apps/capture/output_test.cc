// The -V tree, the -X dump and the --json line of a packet made with scapy.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "../../dissect_fields.h"
#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/json_output.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/tree_output.h"

namespace duplex::capture {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::from_hex;

// Ether(02:..:01 > 02:..:02)/IP(10.0.0.1 > 10.0.0.2, id=1)/ICMP(id=1, seq=2)/"abcd".
const Bytes kPing = from_hex(
    "02000000000202000000000108004500002000010000400166da0a0000010a00000208003336000100026162"
    "6364");

TEST(TreeOutput, HeadingsNameEachLayerInBothModelsThenTheFields) {
  const auto tree = format_tree(describe_packet(kLinkEthernet, kPing, 0));
  EXPECT_EQ(tree.rfind("L2 data link (OSI 2 / TCP-IP link): Ethernet II\n"
                       "  Destination: 02:00:00:00:00:02\n",
                       0),
            0u)
      << tree;
  EXPECT_NE(tree.find("L3 network (OSI 3 / TCP-IP internet): IPv4\n"), std::string::npos);
  EXPECT_NE(tree.find("  Time to Live: 64\n"), std::string::npos);
  EXPECT_NE(tree.find("  Type: 0x0800 (IPv4)\n"), std::string::npos);
  EXPECT_NE(tree.find("L3 network (OSI 3 / TCP-IP internet): ICMP\n  Type: 8 (echo request)\n"),
            std::string::npos)
      << tree;
  // Children are indented one step further than their field.
  EXPECT_NE(tree.find("  Flags: "), std::string::npos);
  EXPECT_NE(tree.find("\n    Don't fragment: 0\n"), std::string::npos) << tree;
}

TEST(TreeOutput, ProblemIsShownInBracketsUnderItsHeader) {
  const Bytes cut(kPing.begin(), kPing.begin() + 26);  // 12 bytes of the IPv4 header
  const auto tree = format_tree(describe_packet(kLinkEthernet, cut, 46));
  EXPECT_NE(tree.find("  [truncated at byte 12 of the header: the IPv4 header needs 20 bytes]\n"),
            std::string::npos)
      << tree;
}

TEST(HexOutput, RowsStopAtEachHeaderAndNameIt) {
  const auto dump = format_hex(describe_packet(kLinkEthernet, kPing, 0), kPing);
  const std::string expected =
      "0x0000:  0200 0000 0002 0200 0000 0001 0800       ..............    Ethernet II\n"
      "0x000e:  4500 0020 0001 0000 4001 66da 0a00 0001  E.. ....@.f.....  IPv4\n"
      "0x001e:  0a00 0002                                ....              IPv4\n"
      "0x0022:  0800 3336 0001 0002                      ..36....          ICMP\n"
      "0x002a:  6162 6364                                abcd              payload\n";
  EXPECT_EQ(dump, expected);
}

TEST(JsonOutput, PacketObjectHasTheContractsKeysInOrder) {
  std::string out;
  append_packet_json(out, 1, {1796454000, 123456}, 46, 46,
                     describe_packet(kLinkEthernet, kPing, 0));
  EXPECT_EQ(out.rfind("{\"number\":1,\"time\":\"2026-12-05T07:00:00.123456Z\",\"length\":46,"
                      "\"captured\":46,\"layers\":[{\"layer\":\"link\",\"osi\":2,\"protocol\":"
                      "\"Ethernet II\",\"offset\":0,\"length\":14,\"fields\":[{\"key\":\"eth.dst\","
                      "\"label\":\"Destination\",\"value\":\"02:00:00:00:00:02\",\"offset\":0,"
                      "\"length\":6}",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("{\"layer\":\"network\",\"osi\":3,\"protocol\":\"ICMP\",\"offset\":34"),
            std::string::npos);
  EXPECT_NE(out.find("\"meaning\":\"echo request\""), std::string::npos);
  EXPECT_EQ(out.find("\"problem\""), std::string::npos);
  EXPECT_EQ(out.back(), '}');
}

TEST(JsonOutput, StringsAreEscapedAndInvalidUtf8IsReplaced) {
  std::string out;
  append_json_string(out,
                     "a\"b\\c\n\x01\x7f"
                     "caf\xc3\xa9 \xff\xc3");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u007fcaf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(JsonOutput, EachEscapeIsFoundAtAnyPlaceInALongString) {
  // Long plain runs are checked 8 bytes at a time: each byte that needs escaping, and the
  // plain bytes at the edges of the range, at every place in a word.
  const std::pair<std::string, std::string> cases[] = {{"\"", "\\\""},
                                                       {"\\", "\\\\"},
                                                       {"\n", "\\n"},
                                                       {"\x01", "\\u0001"},
                                                       {"\x1f", "\\u001f"},
                                                       {"\x7f", "\\u007f"},
                                                       {"\xff", "\xef\xbf\xbd"},
                                                       {"\xc3\xa9", "\xc3\xa9"},
                                                       {" ", " "},
                                                       {"~", "~"},
                                                       {"!", "!"},
                                                       {"[", "["}};
  for (const auto& [raw, escaped] : cases) {
    for (std::size_t at = 0; at < 17; ++at) {
      const std::string before(at, 'a'), after(20 - at, 'b');
      std::string out;
      append_json_string(out, before + raw + after);
      EXPECT_EQ(out, "\"" + before + escaped + after + "\"") << "at " << at;
    }
  }
}

TEST(JsonOutput, TimeIsUtcToTheMicrosecondInEverySecond) {
  EXPECT_EQ(iso_time({1796454000, 123456}), "2026-12-05T07:00:00.123456Z");
  EXPECT_EQ(iso_time({1796454000, 7}), "2026-12-05T07:00:00.000007Z");  // the cached second
  EXPECT_EQ(iso_time({1796454001, 999999}), "2026-12-05T07:00:01.999999Z");
  EXPECT_EQ(iso_time({0, 0}), "1970-01-01T00:00:00.000000Z");
}

TEST(LineOutput, TimeIsLocalClockToTheMicrosecond) {
  setenv("TZ", "UTC", 1);
  tzset();
  LineFormatter f;
  std::string s;
  f.append_time(s, {1796454000 + 3 * 3600 + 25 * 60 + 7, 42});
  EXPECT_EQ(s, "10:25:07.000042");
  s.clear();
  f.append_time(s, {1796454000 + 3 * 3600 + 25 * 60 + 7, 999999});  // the cached second
  EXPECT_EQ(s, "10:25:07.999999");
}

}  // namespace
}  // namespace duplex::capture
