// The /auth gate of the TCP chat port (serve bound beyond loopback), as bytes in and a
// verdict out: what it takes, what it leaves for the session, and why it refuses.
#include "duplex/apps/chat/chat_auth.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace duplex::apps {
namespace {

using State = ChatAuth::State;

TEST(ChatAuth, TheRightTokenAdmitsAndLeavesWhatFollowsForTheSession) {
  ChatAuth auth("s3cret");
  const std::string_view input = "/auth s3cret\r\n/nick alice\nhello\n";
  const std::size_t used = auth.feed(input);
  EXPECT_EQ(auth.state(), State::admitted);
  EXPECT_EQ(input.substr(used), "/nick alice\nhello\n");
  EXPECT_EQ(auth.feed("more\n"), 0u);  // the verdict is given: the rest is not the gate's
}

TEST(ChatAuth, ALineSplitAtEveryByteIsReadTheSame) {
  const std::string input = "/auth  s3cret \nhi\n";
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    ChatAuth auth("s3cret");
    std::size_t used = auth.feed(std::string_view(input).substr(0, cut));
    if (auth.state() == State::waiting) used += auth.feed(std::string_view(input).substr(cut));
    EXPECT_EQ(auth.state(), State::admitted) << "cut at " << cut;
    EXPECT_EQ(input.substr(used), "hi\n") << "cut at " << cut;
  }
}

TEST(ChatAuth, AWrongTokenIsRefusedSayingSo) {
  for (std::string_view line :
       {"/auth s3creT\n", "/auth s3cre\n", "/auth s3cret2\n", "/auth\n", "/auth \n"}) {
    ChatAuth auth("s3cret");
    auth.feed(line);
    EXPECT_EQ(auth.state(), State::refused) << line;
    EXPECT_NE(auth.refusal().find("wrong token"), std::string::npos) << auth.refusal();
  }
}

TEST(ChatAuth, AFirstLineThatIsNotAuthIsRefusedNamingTheCommand) {
  for (std::string_view line : {"hello\n", "/nick alice\n", "/AUTH s3cret\n", "/authx s3cret\n",
                                "\xff\xfe\n", "s3cret\n"}) {
    ChatAuth auth("s3cret");
    auth.feed(line);
    EXPECT_EQ(auth.state(), State::refused) << line;
    EXPECT_NE(auth.refusal().find("/auth TOKEN"), std::string::npos) << auth.refusal();
  }
}

TEST(ChatAuth, EmptyLinesBeforeAuthAreSkipped) {
  ChatAuth auth("s3cret");
  auth.feed("\n\r\n\n/auth s3cret\n");
  EXPECT_EQ(auth.state(), State::admitted);
}

TEST(ChatAuth, NothingComesInWhileTheLineIsIncomplete) {
  ChatAuth auth("s3cret");
  EXPECT_EQ(auth.feed("/auth s3cret"), 12u);
  EXPECT_EQ(auth.state(), State::waiting);
}

TEST(ChatAuth, MoreThanTheLimitWithoutANewlineIsRefusedAtOnce) {
  ChatAuth auth("s3cret");
  const std::string endless(ChatAuth::kMaxLineBytes, 'a');
  auth.feed(endless);
  EXPECT_EQ(auth.state(), State::waiting);  // exactly the limit is still allowed
  auth.feed("a");
  EXPECT_EQ(auth.state(), State::refused);
  EXPECT_NE(auth.refusal().find("longer than"), std::string::npos) << auth.refusal();
}

TEST(ChatAuth, EmptyLinesCountTowardsTheLimit) {
  ChatAuth auth("s3cret");
  auth.feed(std::string(ChatAuth::kMaxLineBytes + 1, '\n'));
  EXPECT_EQ(auth.state(), State::refused);
}

TEST(ChatAuth, SameTokenComparesWholeStrings) {
  EXPECT_TRUE(same_token("abc", "abc"));
  EXPECT_FALSE(same_token("abd", "abc"));
  EXPECT_FALSE(same_token("ab", "abc"));
  EXPECT_FALSE(same_token("abcd", "abc"));
  EXPECT_FALSE(same_token("", "abc"));
}

}  // namespace
}  // namespace duplex::apps
