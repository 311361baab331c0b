// The TLS stage as two in-memory endpoints: what one writes into output() is fed to the
// other, in whatever pieces the test chooses.
#include "duplex/proto/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "duplex/base/error.h"

namespace duplex::tls {
namespace {

const CertificateKey& test_identity() {
  static const CertificateKey id = generate_self_signed({"localhost"}, {"127.0.0.1", "::1"});
  return id;
}

std::shared_ptr<Context> test_server() {
  static const auto ctx = Context::server({test_identity(), true, {}});
  return ctx;
}

std::shared_ptr<Context> pinned_client() {
  ClientOptions o;
  o.pin = fingerprint_of_pem(test_identity().cert_pem);
  return Context::client(o);
}

// One context for the many pairs of the split test (making a context costs milliseconds).
std::shared_ptr<Context> shared_pinned_client() {
  static const auto ctx = pinned_client();
  return ctx;
}

// Moves every byte each side has for the other until neither has any.
void exchange(Session& a, Session& b) {
  for (int round = 0; round < 20 && !(a.output().empty() && b.output().empty()); ++round) {
    if (!a.output().empty()) {
      b.feed(a.output().peek(), a.output().readable_bytes());
      a.output().retrieve_all();
    }
    if (!b.output().empty()) {
      a.feed(b.output().peek(), b.output().readable_bytes());
      b.output().retrieve_all();
    }
  }
}

struct Pair {
  explicit Pair(std::shared_ptr<Context> client_ctx = shared_pinned_client(),
                std::string name = "localhost")
      : client(std::move(client_ctx), name), server(test_server()) {
    client.start();
    exchange(client, server);
  }
  Session client;
  Session server;
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(TlsSession, HandshakesWithTls13AndCarriesBytesBothWays) {
  Pair p;
  ASSERT_TRUE(p.client.open()) << p.client.error();
  ASSERT_TRUE(p.server.open()) << p.server.error();
  EXPECT_EQ(p.client.protocol(), "TLSv1.3");
  EXPECT_EQ(p.client.peer_fingerprint(),
            fingerprint_text(fingerprint_of_pem(test_identity().cert_pem)));
  EXPECT_NE(p.client.peer_subject().find("CN=localhost"), std::string::npos);
  EXPECT_EQ(p.client.alpn(), "");  // nothing offered, nothing chosen

  ASSERT_EQ(p.client.write("ping", 4), Session::Status::kOk);
  exchange(p.client, p.server);
  Buffer got;
  EXPECT_EQ(p.server.read(got, 1 << 20), Session::Status::kOk);
  EXPECT_EQ(got.view(), "ping");
  ASSERT_EQ(p.server.write("pong", 4), Session::Status::kOk);
  exchange(p.client, p.server);
  Buffer back;
  p.client.read(back, 1 << 20);
  EXPECT_EQ(back.view(), "pong");
}

TEST(TlsSession, ServerAnswersAlpnHttp11WhenOffered) {
  ClientOptions o;
  o.pin = fingerprint_of_pem(test_identity().cert_pem);
  o.alpn = {"h2", "http/1.1"};
  Pair p(Context::client(o));
  ASSERT_TRUE(p.client.open()) << p.client.error();
  EXPECT_EQ(p.client.alpn(), "http/1.1");
  EXPECT_EQ(p.server.alpn(), "http/1.1");
}

TEST(TlsSession, HandshakeFedOneByteAtATimeCompletes) {
  Session client(pinned_client(), "localhost");
  Session server(test_server());
  client.start();
  for (int round = 0; round < 10 && !(client.open() && server.open()); ++round) {
    for (Session* from : {&client, &server}) {
      Session* to = from == &client ? &server : &client;
      Buffer& out = from->output();
      while (!out.empty()) {
        ASSERT_NE(to->feed(out.peek(), 1), Session::Status::kFailed) << to->error();
        out.retrieve(1);
      }
    }
  }
  EXPECT_TRUE(client.open());
  EXPECT_TRUE(server.open());
}

// Three records of application data, cut in two at every byte boundary of their
// ciphertext: the server must read exactly the bytes written, whatever the cut.
TEST(TlsSession, RecordsSplitAtEveryByteBoundaryDecryptTheSame) {
  const std::string a = pattern(100), b = pattern(1), c = pattern(300);
  std::size_t total = 0;
  for (std::size_t cut = 0;; ++cut) {
    Pair p;
    ASSERT_TRUE(p.server.open());
    p.client.write(a.data(), a.size());
    p.client.write(b.data(), b.size());
    p.client.write(c.data(), c.size());
    const std::string wire(p.client.output().view());
    total = wire.size();
    if (cut > total) break;
    Buffer got;
    ASSERT_EQ(p.server.feed(wire.data(), cut), Session::Status::kOk);
    ASSERT_EQ(p.server.read(got, 1 << 20), Session::Status::kOk);
    ASSERT_EQ(p.server.feed(wire.data() + cut, wire.size() - cut), Session::Status::kOk);
    ASSERT_EQ(p.server.read(got, 1 << 20), Session::Status::kOk);
    ASSERT_EQ(got.view(), a + b + c) << "cut at " << cut << " of " << total;
  }
  EXPECT_GT(total, 400u);
}

TEST(TlsSession, ReadStopsAtTheLimitAndKeepsTheRestAsCiphertext) {
  Pair p;
  const std::string big = pattern(200 * 1024);
  p.client.write(big.data(), big.size());
  p.server.feed(p.client.output().peek(), p.client.output().readable_bytes());
  p.client.output().retrieve_all();
  std::string all;
  Buffer got;
  int reads = 0;
  while (all.size() < big.size() && reads < 1000) {
    ASSERT_EQ(p.server.read(got, 4096), Session::Status::kOk);
    EXPECT_LE(got.readable_bytes(), 4096u);
    if (reads == 0) {
      EXPECT_GT(p.server.pending_ciphertext(), 100u * 1024);
    }
    all += got.retrieve_all_as_string();
    ++reads;
  }
  EXPECT_EQ(all, big);
  EXPECT_EQ(p.server.pending_ciphertext(), 0u);
}

TEST(TlsSession, CloseNotifyIsAHalfClose) {
  Pair p;
  p.client.write("last", 4);
  p.client.close();
  EXPECT_TRUE(p.client.closed());
  exchange(p.client, p.server);
  Buffer got;
  EXPECT_EQ(p.server.read(got, 1 << 20), Session::Status::kClosed);
  EXPECT_EQ(got.view(), "last");
  EXPECT_TRUE(p.server.peer_closed());
  // TLS 1.3: the other direction stays open until the server closes it too.
  p.server.write("answer", 6);
  p.server.close();
  exchange(p.client, p.server);
  Buffer back;
  EXPECT_EQ(p.client.read(back, 1 << 20), Session::Status::kClosed);
  EXPECT_EQ(back.view(), "answer");
}

TEST(TlsSession, WrongPinIsRefusedNamingThePin) {
  ClientOptions o;
  o.pin = Fingerprint{};  // all zeros
  Pair p(Context::client(o));
  EXPECT_TRUE(p.client.failed());
  EXPECT_NE(p.client.error().find("--pin"), std::string::npos) << p.client.error();
  EXPECT_NE(p.client.error().find(fingerprint_text(fingerprint_of_pem(test_identity().cert_pem))),
            std::string::npos);
  EXPECT_FALSE(p.server.open());  // the alert reached it
  EXPECT_TRUE(p.server.failed());
}

TEST(TlsSession, SelfSignedWithoutCaIsRefusedNamingTheFix) {
  ClientOptions o;
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  if (::access(o.ca_file.c_str(), R_OK) != 0) o.ca_file.clear();
  Pair p(Context::client(o));
  EXPECT_TRUE(p.client.failed());
  EXPECT_NE(p.client.error().find("not trusted"), std::string::npos) << p.client.error();
  EXPECT_NE(p.client.error().find("--ca FILE"), std::string::npos);
}

std::string temp_file(const std::string& text) {
  char path[] = "/tmp/duplex-tls-test-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

TEST(TlsSession, CaFileTrustsTheServerAndTheNameIsChecked) {
  const std::string ca = temp_file(test_identity().cert_pem);
  ClientOptions o;
  o.ca_file = ca;
  {
    Pair good(Context::client(o), "localhost");
    EXPECT_TRUE(good.client.open()) << good.client.error();
  }
  {
    Pair by_address(Context::client(o), "127.0.0.1");
    EXPECT_TRUE(by_address.client.open()) << by_address.client.error();
  }
  Pair wrong(Context::client(o), "wrong.example");
  EXPECT_TRUE(wrong.client.failed());
  // The line names the certificate's names and the one asked for.
  EXPECT_EQ(wrong.client.error().rfind("certificate is for localhost", 0), 0u)
      << wrong.client.error();
  EXPECT_NE(wrong.client.error().find(", not wrong.example;"), std::string::npos)
      << wrong.client.error();
  ::unlink(ca.c_str());
}

// --client-ca: the server asks for a certificate and trusts only those FILE's CAs issued
// (here one self-signed certificate, its own CA).
TEST(TlsSession, ClientCaRequiresACertificateItIssued) {
  static const CertificateKey alice = generate_self_signed({"alice"}, {});
  static const CertificateKey mallory = generate_self_signed({"mallory"}, {});
  const std::string ca = temp_file(alice.cert_pem);
  const auto server_ctx = Context::server({test_identity(), true, ca});
  const auto client_with = [](const CertificateKey& id) {
    ClientOptions o;
    o.pin = fingerprint_of_pem(test_identity().cert_pem);
    o.identity = id;
    return Context::client(o);
  };
  {
    Session client(client_with(alice), "localhost"), server(server_ctx);
    client.start();
    exchange(client, server);
    ASSERT_TRUE(server.open()) << server.error();
    EXPECT_NE(server.peer_subject().find("CN=alice"), std::string::npos);
    EXPECT_EQ(server.peer_fingerprint(), fingerprint_text(fingerprint_of_pem(alice.cert_pem)));
  }
  {
    Session client(client_with({}), "localhost"), server(server_ctx);
    client.start();
    exchange(client, server);
    EXPECT_TRUE(server.failed());
    EXPECT_EQ(server.error().rfind("the client sent no certificate", 0), 0u) << server.error();
    Buffer plain;  // TLS 1.3: the client learns it from the server's alert
    EXPECT_EQ(client.read(plain, 1024), Session::Status::kFailed);
    EXPECT_NE(client.error().find("requires a client certificate"), std::string::npos)
        << client.error();
  }
  {
    Session client(client_with(mallory), "localhost"), server(server_ctx);
    client.start();
    exchange(client, server);
    EXPECT_TRUE(server.failed());
    EXPECT_NE(server.error().find("client certificate /O=duplex/CN=mallory not trusted"),
              std::string::npos)
        << server.error();
    Buffer plain;
    EXPECT_EQ(client.read(plain, 1024), Session::Status::kFailed);
    EXPECT_NE(client.error().find("refused our client certificate"), std::string::npos)
        << client.error();
  }
  ::unlink(ca.c_str());
}

TEST(TlsSession, InsecureSkipsTheCheck) {
  ClientOptions o;
  o.insecure = true;
  Pair p(Context::client(o), "wrong.example");
  EXPECT_TRUE(p.client.open()) << p.client.error();
}

TEST(TlsSession, PlainTextToTheServerFailsWithOneClearLine) {
  Session http(test_server());
  EXPECT_EQ(http.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), Session::Status::kFailed);
  EXPECT_NE(http.error().find("plain HTTP"), std::string::npos) << http.error();
  Session text(test_server());
  EXPECT_EQ(text.feed("hello there, server\n", 20), Session::Status::kFailed);
  EXPECT_NE(text.error().find("does not speak TLS"), std::string::npos) << text.error();
  EXPECT_EQ(text.error().find('\n'), std::string::npos);
}

TEST(TlsSession, Tls12IsAcceptedAndTls11Refused) {
  auto v12 = pinned_client();
  SSL_CTX_set_max_proto_version(v12->native(), TLS1_2_VERSION);
  Pair p(v12);
  ASSERT_TRUE(p.client.open()) << p.client.error();
  EXPECT_EQ(p.server.protocol(), "TLSv1.2");

  auto v11 = pinned_client();
  SSL_CTX_set_security_level(v11->native(), 0);
  SSL_CTX_set_min_proto_version(v11->native(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(v11->native(), TLS1_1_VERSION);
  Pair old(v11);
  EXPECT_FALSE(old.server.open());
  EXPECT_TRUE(old.server.failed());
  EXPECT_TRUE(old.client.failed());
}

TEST(TlsFingerprint, ParsesWithAndWithoutColons) {
  const Fingerprint f = fingerprint_of_pem(test_identity().cert_pem);
  const std::string text = fingerprint_text(f);
  EXPECT_EQ(text.size(), 95u);
  EXPECT_EQ(parse_fingerprint(text), f);
  std::string bare;
  for (char c : text) {
    if (c != ':') bare += static_cast<char>(std::tolower(c));
  }
  EXPECT_EQ(parse_fingerprint(bare), f);
  EXPECT_FALSE(parse_fingerprint(bare.substr(2)));
  EXPECT_FALSE(parse_fingerprint(bare + "00"));
  EXPECT_FALSE(parse_fingerprint("zz" + bare.substr(2)));
}

TEST(TlsCertificate, SelfSignedIsKeptPrivateAndStable) {
  char dir[] = "/tmp/duplex-tls-dir-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string where = std::string(dir) + "/data/tls";
  bool created = false;
  const CertificateKey first = self_signed_in(where, &created);
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat((where + "/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(where.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const CertificateKey second = self_signed_in(where, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(fingerprint_of_pem(first.cert_pem), fingerprint_of_pem(second.cert_pem));
  EXPECT_NO_THROW(Context::server({second, true, {}}));
  std::system(("rm -rf " + std::string(dir)).c_str());
}

TEST(TlsContext, KeyOfAnotherCertificateIsRefused) {
  const CertificateKey other = generate_self_signed({"other"}, {});
  try {
    Context::server({{test_identity().cert_pem, other.key_pem}, true, {}});
    FAIL() << "a mismatched key was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not belong"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace duplex::tls
