// The IRC message codec: what clients send (tags, prefixes, trailing parameters, numerics,
// the 15-parameter cap) and the lines the door writes (no peer text can end a line early).
#include "duplex/proto/irc_message.h"

#include <gtest/gtest.h>

namespace duplex::irc {
namespace {

TEST(IrcMessage, ReadsTagsPrefixCommandAndTrailing) {
  const auto m = parse("@time=2026-12-07T02:00:00Z :ann!a@host privmsg #lobby :hello there");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tags, "time=2026-12-07T02:00:00Z");
  EXPECT_EQ(m->prefix, "ann!a@host");
  EXPECT_EQ(m->command, "PRIVMSG");
  ASSERT_EQ(m->params.size(), 2u);
  EXPECT_EQ(m->params[0], "#lobby");
  EXPECT_EQ(m->params[1], "hello there");
}

TEST(IrcMessage, ReadsMiddleParametersAndAnEmptyTrailing) {
  const auto user = parse("USER ann 0 * :");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->params, (std::vector<std::string>{"ann", "0", "*", ""}));
  const auto spaced = parse("  NICK   bob  ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->params, (std::vector<std::string>{"bob"}));
  const auto numeric = parse(":srv 001 ann :Welcome");
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->command, "001");
}

TEST(IrcMessage, TheFifteenthParameterTakesTheRest) {
  const auto m = parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->params.size(), kMaxParams);
  EXPECT_EQ(m->params.back(), "15 16 17");
}

TEST(IrcMessage, ALineWithoutACommandIsNone) {
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("   "));
  EXPECT_FALSE(parse(":prefix-only"));
  EXPECT_FALSE(parse("@tags-only"));
  EXPECT_FALSE(parse("12 a"));
  EXPECT_FALSE(parse("PRIV-MSG x"));
  EXPECT_FALSE(parse("1234 x"));
}

TEST(IrcMessage, WritesTheLastParameterWithAColonOnlyWhenItNeedsOne) {
  EXPECT_EQ(line("duplex", "PONG", {"duplex", "x1"}), ":duplex PONG duplex x1\r\n");
  EXPECT_EQ(line("a!a@d", "PRIVMSG", {"#lobby", "two words"}),
            ":a!a@d PRIVMSG #lobby :two words\r\n");
  EXPECT_EQ(line("", "CAP", {"*", "LS", ""}), "CAP * LS :\r\n");
  EXPECT_EQ(line("", "X", {":colon"}), "X ::colon\r\n");
}

TEST(IrcMessage, NoParameterEndsTheLineEarly) {
  const std::string out = line("a!a@d", "PRIVMSG", {"#lobby", "hi\r\nQUIT :x\0y"});
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(out.find('\r'), out.size() - 2);
  const auto back = parse(out.substr(0, out.size() - 2));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->command, "PRIVMSG");
  EXPECT_EQ(back->params[1], "hi  QUIT :x");
}

TEST(IrcMessage, APrefixOrMiddleParameterWithASpaceStaysOneWord) {
  const std::string out = line(std::string("a\0b c", 5), "PRIVMSG", {"#x y", "", "last one"});
  EXPECT_EQ(out, ":a_b_c PRIVMSG #x_y * :last one\r\n");
  const auto back = parse(out.substr(0, out.size() - 2));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->prefix, "a_b_c");
  EXPECT_EQ(back->params.size(), 3u);
}

}  // namespace
}  // namespace duplex::irc
