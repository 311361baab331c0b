// The shared shape of decoded headers: layer names in both models and value formatting.
#include "duplex/base/dissect.h"

#include <gtest/gtest.h>

namespace duplex::dissect {
namespace {

TEST(Dissect, LayerHeadingNamesBothModels) {
  EXPECT_EQ(heading(Layer::link), "L2 data link (OSI 2 / TCP-IP link)");
  EXPECT_EQ(heading(Layer::network), "L3 network (OSI 3 / TCP-IP internet)");
  EXPECT_EQ(heading(Layer::transport), "L4 transport (OSI 4 / TCP-IP transport)");
  EXPECT_EQ(heading(Layer::application), "L7 application (OSI 5-7 / TCP-IP application)");
  EXPECT_EQ(name(Layer::network), "network");
  EXPECT_EQ(osi(Layer::transport), 4);
}

TEST(Dissect, HexPadsToTheFieldWidth) {
  EXPECT_EQ(hex(0x800, 4), "0x0800");
  EXPECT_EQ(hex(0x12345, 2), "0x12345");
  EXPECT_EQ(hex(0, 2), "0x00");
  EXPECT_EQ(decimal(65535), "65535");
}

TEST(Dissect, AddReturnsTheFieldForItsChildren) {
  Header h;
  auto& flags = add(h.fields, "flags", "Flags", "[SYN]", 47, 1);
  add(flags.children, "syn", "SYN", "1", 47, 1, "synchronize sequence numbers");
  ASSERT_EQ(h.fields.size(), 1u);
  ASSERT_EQ(h.fields[0].children.size(), 1u);
  EXPECT_EQ(h.fields[0].children[0].meaning, "synchronize sequence numbers");
  EXPECT_EQ(h.fields[0].offset, 47u);
}

TEST(Dissect, AProblemSaysWhereAndWhy) {
  EXPECT_EQ(to_string(Problem{}), "");
  EXPECT_FALSE(Problem{});
  const Problem p{Problem::Kind::truncated, "the TCP header needs 20 bytes", 12};
  EXPECT_TRUE(p);
  EXPECT_EQ(to_string(p), "truncated at byte 12 of the header: the TCP header needs 20 bytes");
  EXPECT_EQ(to_string(Problem{Problem::Kind::malformed, "IHL is below 5", 0}),
            "malformed at byte 0 of the header: IHL is below 5");
}

}  // namespace
}  // namespace duplex::dissect
