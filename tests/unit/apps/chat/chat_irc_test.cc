// The chat's IRC door on loopback, beside the plain line door on the same hub: an IRC
// client registers, joins a room as a channel, hears the history and the other door's
// members, is heard by them, and is refused with the numerics IRC clients understand.
#include "duplex/apps/chat/chat_irc.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../../transport/loopback.h"
#include "duplex/apps/chat/chat_hub.h"
#include "duplex/apps/chat/chat_tcp.h"
#include "temp_db.h"

namespace duplex::apps {
namespace {

// A hub with both doors, built and torn down on the loop thread.
class Doors {
 public:
  explicit Doors(std::string token = "",
                 std::chrono::milliseconds auth_timeout = std::chrono::seconds(10)) {
    ChatTcpOptions irc;
    irc.irc = true;
    irc.token = token;
    irc.auth_timeout = auth_timeout;
    ChatTcpOptions plain;
    plain.token = token;
    std::tie(irc_at_, plain_at_) = runner_.call([&] {
      hub_ = std::make_unique<ChatHub>(runner_.loop(), db_.path());
      irc_ = std::make_unique<ChatTcpServer>(runner_.loop(), test::loopback(), *hub_, irc);
      plain_ = std::make_unique<ChatTcpServer>(runner_.loop(), test::loopback(), *hub_, plain);
      irc_->start();
      plain_->start();
      return std::make_pair(irc_->listen_endpoint(), plain_->listen_endpoint());
    });
  }
  ~Doors() {
    runner_.call([&] {
      irc_.reset();
      plain_.reset();
      hub_.reset();
      return 0;
    });
  }
  const inet::Endpoint& irc() const { return irc_at_; }
  const inet::Endpoint& plain() const { return plain_at_; }

 private:
  test::TempDb db_;
  test::LoopRunner runner_;
  std::unique_ptr<ChatHub> hub_;
  std::unique_ptr<ChatTcpServer> irc_;
  std::unique_ptr<ChatTcpServer> plain_;
  inet::Endpoint irc_at_;
  inet::Endpoint plain_at_;
};

using test::receive_until;

TEST(ChatIrc, ARegisteredClientJoinsHearsTheHistoryAndBothDoorsHearEachOther) {
  Doors doors;
  test::Client plain(doors.plain());
  std::string plain_seen;
  ASSERT_TRUE(receive_until(plain, plain_seen, "* you are guest-1 in lobby\n")) << plain_seen;
  ASSERT_TRUE(plain.send_all("before the irc client\n"));
  ASSERT_TRUE(receive_until(plain, plain_seen, "guest-1: before the irc client\n"));

  test::Client irc(doors.irc());
  ASSERT_TRUE(irc.send_all("CAP LS 302\r\nNICK ann\r\nUSER ann 0 * :Ann\r\nCAP END\r\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(irc, seen, " 376 ann :End of /MOTD command\r\n")) << seen;
  EXPECT_EQ(seen.find(":duplex CAP * LS :\r\n"), 0u) << seen;
  EXPECT_NE(seen.find(":duplex 001 ann :Welcome to duplex chat, ann\r\n"), std::string::npos);
  EXPECT_NE(seen.find(" 005 ann CHANTYPES=# "), std::string::npos);

  ASSERT_TRUE(irc.send_all("JOIN #lobby\r\n"));
  ASSERT_TRUE(
      receive_until(irc, seen, ":guest-1!guest-1@duplex PRIVMSG #lobby :before the irc client\r\n"))
      << seen;
  EXPECT_NE(seen.find(":ann!ann@duplex JOIN #lobby\r\n"), std::string::npos);
  EXPECT_NE(seen.find(":duplex 353 ann = #lobby :guest-1 ann\r\n"), std::string::npos) << seen;
  ASSERT_TRUE(receive_until(plain, plain_seen, "* ann joined lobby\n")) << plain_seen;

  ASSERT_TRUE(
      irc.send_all("PRIVMSG #lobby :hello from irc\r\nPRIVMSG #lobby :\x01"
                   "ACTION waves\x01\r\n"));
  ASSERT_TRUE(receive_until(plain, plain_seen, "] * ann waves\n")) << plain_seen;
  EXPECT_NE(plain_seen.find("ann: hello from irc\n"), std::string::npos);

  ASSERT_TRUE(plain.send_all("/me nods\nback from tcp\n"));
  ASSERT_TRUE(receive_until(irc, seen, ":guest-1!guest-1@duplex PRIVMSG #lobby :back from tcp\r\n"))
      << seen;
  EXPECT_NE(seen.find(":guest-1!guest-1@duplex PRIVMSG #lobby :\x01"
                      "ACTION nods\x01\r\n"),
            std::string::npos)
      << seen;
  // Its own lines are not echoed to the IRC client (it shows them itself).
  EXPECT_EQ(seen.find("PRIVMSG #lobby :hello from irc"), std::string::npos) << seen;

  ASSERT_TRUE(irc.send_all("NICK ann2\r\nPING :tok\r\nQUIT :done\r\n"));
  const auto rest = irc.receive_until_eof();
  ASSERT_TRUE(rest.has_value());
  EXPECT_NE(rest->find(":ann!ann@duplex NICK ann2\r\n"), std::string::npos) << *rest;
  EXPECT_NE(rest->find(":duplex PONG duplex tok\r\n"), std::string::npos) << *rest;
  EXPECT_NE(rest->find("ERROR :Closing Link: ann2\r\n"), std::string::npos) << *rest;
  ASSERT_TRUE(receive_until(plain, plain_seen, "* ann2 left lobby\n")) << plain_seen;
}

TEST(ChatIrc, BadNamesCommandsBeforeRegistrationAndOtherChannelsGetTheirNumerics) {
  Doors doors;
  test::Client first(doors.irc());
  ASSERT_TRUE(first.send_all("NICK taken\r\nUSER t 0 * :T\r\nJOIN #lobby\r\n"));
  std::string first_seen;
  ASSERT_TRUE(receive_until(first, first_seen, " 366 taken #lobby")) << first_seen;

  test::Client irc(doors.irc());
  ASSERT_TRUE(
      irc.send_all("JOIN #lobby\r\nNICK bad[nick]\r\nNICK TAKEN\r\nUSER bob 0 * :Bob\r\n"
                   "NICK bob\r\nPRIVMSG #ops :hi\r\nPRIVMSG taken :psst\r\n"
                   "JOIN #bad!name\r\nFROB\r\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(irc, seen, " 421 bob FROB :Unknown command\r\n")) << seen;
  EXPECT_NE(seen.find(":duplex 451 * :You have not registered\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find(":duplex 432 * bad[nick] :Erroneous nickname"), std::string::npos) << seen;
  EXPECT_NE(seen.find(":duplex 433 * TAKEN :Nickname is already in use\r\n"), std::string::npos);
  EXPECT_NE(seen.find(":duplex 404 bob #ops :Cannot send to channel: join it first\r\n"),
            std::string::npos);
  EXPECT_NE(seen.find(":duplex 401 bob taken :No such nick"), std::string::npos) << seen;
  EXPECT_NE(seen.find(":duplex 403 bob #bad!name :No such channel"), std::string::npos) << seen;
}

TEST(ChatIrc, WithATokenThePassMustMatchBeforeAnythingOfTheRoom) {
  Doors doors("s3cret");
  {
    test::Client wrong(doors.irc());
    ASSERT_TRUE(wrong.send_all("PASS nope\r\nNICK eve\r\nUSER eve 0 * :Eve\r\nJOIN #lobby\r\n"));
    const auto got = wrong.receive_until_eof();
    ASSERT_TRUE(got.has_value());
    EXPECT_NE(got->find(":duplex 464 eve :Password incorrect"), std::string::npos) << *got;
    EXPECT_EQ(got->find(" 001 "), std::string::npos) << *got;
    EXPECT_EQ(got->find("JOIN"), std::string::npos) << *got;
  }
  test::Client right(doors.irc());
  ASSERT_TRUE(right.send_all("PASS s3cret\r\nNICK ann\r\nUSER ann 0 * :Ann\r\nJOIN #lobby\r\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(right, seen, ":ann!ann@duplex JOIN #lobby\r\n")) << seen;
}

TEST(ChatIrc, WithATokenAClientThatDoesNotRegisterInTimeIsClosed) {
  Doors doors("s3cret", std::chrono::milliseconds(200));
  test::Client idle(doors.irc());
  ASSERT_TRUE(idle.send_all("NICK slow\r\n"));
  const auto got = idle.receive_until_eof();
  ASSERT_TRUE(got.has_value()) << "no close";
  EXPECT_NE(got->find("ERROR :Closing Link: no registration within 200 ms\r\n"), std::string::npos)
      << *got;
}

TEST(ChatIrc, ANameTakenWhileOutsideARoomIsNotJoinedTwice) {
  Doors doors;
  test::Client irc(doors.irc());
  ASSERT_TRUE(irc.send_all("NICK guest-1\r\nUSER g 0 * :G\r\n"));
  std::string seen;
  ASSERT_TRUE(receive_until(irc, seen, " 376 guest-1 ")) << seen;
  // A terminal arrives and is given guest-1 too (the IRC client holds no room, so no name).
  test::Client plain(doors.plain());
  std::string plain_seen;
  ASSERT_TRUE(receive_until(plain, plain_seen, "* you are guest-1 in lobby\n")) << plain_seen;
  ASSERT_TRUE(
      irc.send_all("JOIN #lobby\r\nPART #elsewhere\r\nNICK irc-guest\r\nJOIN #lobby\r\n"
                   "PRIVMSG #lobby :\x02"
                   "bold\x02 and \x03"
                   "4,12red\x03 text\r\n"));
  ASSERT_TRUE(receive_until(irc, seen, ":irc-guest!irc-guest@duplex JOIN #lobby\r\n")) << seen;
  EXPECT_NE(seen.find(":duplex 433 guest-1 guest-1 :Nickname is already in use"), std::string::npos)
      << seen;
  EXPECT_NE(seen.find(":duplex 442 guest-1 #elsewhere :You're not on that channel\r\n"),
            std::string::npos)
      << seen;
  // mIRC formatting is taken out, the text posted.
  ASSERT_TRUE(receive_until(plain, plain_seen, "irc-guest: bold and red text\n")) << plain_seen;
}

}  // namespace
}  // namespace duplex::apps
