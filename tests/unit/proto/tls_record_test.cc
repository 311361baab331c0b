// TLS records against segments captured from openssl s_client and s_server (tls_vectors.h),
// checked with tshark -T json on the same segments.
#include "duplex/proto/tls_record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../dissect_fields.h"
#include "tls_vectors.h"

namespace duplex::tls {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dissect::Problem;
using test::field_value;
using test::find_field;
using namespace test_vectors;

std::vector<std::string> values(const std::vector<dissect::Field>& fields, const std::string& key) {
  std::vector<std::string> v;
  for (int i = 0; const auto* f = find_field(fields, key, i); ++i) v.push_back(f->value);
  return v;
}

const std::vector<dissect::Field>& handshake_of(const dissect::Header& out, int record = 0) {
  return find_field(find_field(out, "tls.record", record)->children, "tls.handshake")->children;
}

// The values of `key` in every extension of the hello.
std::vector<std::string> in_extensions(const std::vector<dissect::Field>& hs,
                                       const std::string& key) {
  std::vector<std::string> v;
  for (const auto& f : hs)
    if (f.key == "tls.handshake.extension")
      for (const auto& s : values(f.children, key)) v.push_back(s);
  return v;
}

TEST(TlsRecord, DecodesATls13ClientHello) {
  const auto m = decode_tls(kClientHello13);
  ASSERT_FALSE(m.problem) << m.problem.what;
  ASSERT_EQ(m.record_count, 1);
  EXPECT_EQ(m.records[0].content_type, kHandshake);
  EXPECT_EQ(m.records[0].version, 0x0301);
  EXPECT_EQ(m.records[0].length, 330);
  const TlsHello& h = m.hello;
  EXPECT_EQ(h.type, kClientHello);
  EXPECT_TRUE(h.complete);
  EXPECT_EQ(h.length, 326u);
  EXPECT_EQ(h.version, 0x0303);
  EXPECT_EQ(h.session_id.length, 32u);
  EXPECT_EQ(h.cipher_suite_count(), 31);
  EXPECT_EQ(h.extension_count, 11);
  EXPECT_EQ(h.server_name.at, 153u);
  EXPECT_EQ(h.server_name.length, 11u);
  EXPECT_EQ(summary(m, kClientHello13), "Client Hello (SNI=example.com)");

  dissect::Header out;
  describe(m, kClientHello13, 66, out);
  EXPECT_EQ(out.protocol, "TLS");
  EXPECT_EQ(out.layer, dissect::Layer::application);
  // tshark -T json.
  const auto& record = find_field(out, "tls.record")->children;
  EXPECT_EQ(field_value(record, "tls.record.content_type"), "22");
  EXPECT_EQ(field_value(record, "tls.record.version"), "0x0301");
  EXPECT_EQ(field_value(record, "tls.record.length"), "330");
  const auto& hs = handshake_of(out);
  EXPECT_EQ(field_value(hs, "tls.handshake.type"), "1");
  EXPECT_EQ(field_value(hs, "tls.handshake.length"), "326");
  EXPECT_EQ(field_value(hs, "tls.handshake.version"), "0x0303");
  EXPECT_EQ(field_value(hs, "tls.handshake.session_id_length"), "32");
  EXPECT_EQ(field_value(hs, "tls.handshake.cipher_suites_length"), "62");
  const auto suites = values(hs, "tls.handshake.ciphersuite");
  ASSERT_EQ(suites.size(), 31u);
  EXPECT_EQ(suites[0], "0x1302");
  EXPECT_EQ(suites[30], "0x00ff");
  EXPECT_EQ(find_field(hs, "tls.handshake.ciphersuite")->meaning, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(find_field(hs, "tls.handshake.ciphersuite")->offset, 66u + 78);
  EXPECT_EQ(field_value(hs, "tls.handshake.comp_methods_length"), "1");
  EXPECT_EQ(field_value(hs, "tls.handshake.extensions_length"), "191");
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions_server_name"),
            std::vector<std::string>{"example.com"});
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions_alpn_str"),
            (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions.supported_version"),
            (std::vector<std::string>{"0x0304", "0x0303", "0x0302", "0x0301"}));
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions_key_share_group"),
            std::vector<std::string>{"29"});
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions_supported_group").size(), 10u);
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extension.type").size(), 11u);
}

TEST(TlsRecord, DecodesATls13ServerHelloAndNamesTheRecordsAfterIt) {
  const auto m = decode_tls(kServerHello13);
  ASSERT_FALSE(m.problem) << m.problem.what;
  EXPECT_EQ(m.record_count, 6);
  EXPECT_FALSE(m.continues);
  EXPECT_EQ(m.hello.type, kServerHello);
  EXPECT_EQ(m.hello.cipher_suite, 0x1302);
  EXPECT_EQ(m.hello.selected_version, 0x0304);
  EXPECT_EQ(m.hello.key_share_group, 29);
  // tshark's Info column.
  EXPECT_EQ(summary(m, kServerHello13),
            "Server Hello, Change Cipher Spec, Application Data, Application Data, Application "
            "Data, Application Data");
  dissect::Header out;
  describe(m, kServerHello13, 0, out);
  const auto& hs = handshake_of(out);
  EXPECT_EQ(field_value(hs, "tls.handshake.type"), "2");
  EXPECT_EQ(field_value(hs, "tls.handshake.version"), "0x0303");
  EXPECT_EQ(field_value(hs, "tls.handshake.ciphersuite"), "0x1302");
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions.supported_version"),
            std::vector<std::string>{"0x0304"});
  EXPECT_EQ(in_extensions(hs, "tls.handshake.extensions_key_share_group"),
            std::vector<std::string>{"29"});
  EXPECT_EQ(values(out.fields, "tls.record").size(), 6u);
  EXPECT_EQ(field_value(find_field(out, "tls.record", 5)->children, "tls.record.length"), "69");
}

TEST(TlsRecord, DecodesTls12HellosAndSeveralHandshakeRecords) {
  const auto client = decode_tls(kClientHello12);
  ASSERT_FALSE(client.problem) << client.problem.what;
  EXPECT_EQ(client.hello.cipher_suite_count(), 2);
  EXPECT_EQ(client.hello.supported_versions.length, 0u);
  EXPECT_EQ(summary(client, kClientHello12), "Client Hello (SNI=www.example.org)");
  dissect::Header out;
  describe(client, kClientHello12, 0, out);
  EXPECT_EQ(values(handshake_of(out), "tls.handshake.ciphersuite"),
            (std::vector<std::string>{"0xc02b", "0x00ff"}));
  EXPECT_EQ(find_field(handshake_of(out), "tls.handshake.ciphersuite")->meaning,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(field_value(handshake_of(out), "tls.handshake.session_id_length"), "0");

  const auto server = decode_tls(kServerHello12);
  ASSERT_FALSE(server.problem) << server.problem.what;
  EXPECT_EQ(server.record_count, 4);
  EXPECT_EQ(server.hello.cipher_suite, 0xc02b);
  EXPECT_EQ(summary(server, kServerHello12),
            "Server Hello, Certificate, Server Key Exchange, Server Hello Done");
  out = {};
  describe(server, kServerHello12, 0, out);
  EXPECT_EQ(field_value(handshake_of(out, 1), "tls.handshake.type"), "11");
  EXPECT_EQ(field_value(handshake_of(out, 3), "tls.handshake.type"), "14");
}

TEST(TlsRecord, ASegmentInsideARecordIsContinuationData) {
  const std::span<const std::uint8_t> middle(kServerHello12.data() + 100, 200);
  const auto m = decode_tls(middle);
  EXPECT_FALSE(m.problem);
  EXPECT_TRUE(m.continuation);
  EXPECT_EQ(summary(m, middle), "Continuation Data");
  EXPECT_TRUE(looks_like_tls(kClientHello13));
  EXPECT_FALSE(looks_like_tls(middle));
}

TEST(TlsRecord, ARecordThatGoesOnInTheNextSegmentContinues) {
  for (std::size_t n = 1; n < kClientHello13.size(); ++n) {
    const std::span<const std::uint8_t> prefix(kClientHello13.data(), n);
    const auto m = decode_tls(prefix);
    EXPECT_FALSE(m.problem) << n << " " << m.problem.what;
    EXPECT_TRUE(m.continues) << n;
    dissect::Header out;
    describe(m, prefix, 0, out);
    for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, n) << f.key;
    EXPECT_FALSE(summary(m, prefix).empty());
  }
  // The SNI is read once its extension is in the segment.
  const auto m = decode_tls(std::span<const std::uint8_t>(kClientHello13.data(), 170));
  EXPECT_EQ(summary(m, std::span<const std::uint8_t>(kClientHello13.data(), 170)),
            "Client Hello (SNI=example.com)");
}

TEST(TlsRecord, EveryPrefixCutByTheCaptureIsTruncated) {
  for (const Bytes* segment : {&kClientHello13, &kServerHello13, &kServerHello12}) {
    const auto length = static_cast<std::uint32_t>(segment->size());
    for (std::size_t n = 0; n < segment->size(); ++n) {
      const std::span<const std::uint8_t> prefix(segment->data(), n);
      const auto m = decode_tls(prefix, length);
      EXPECT_EQ(m.problem.kind, Problem::Kind::truncated) << n;
      EXPECT_LE(m.problem.at, n);
      dissect::Header out;
      describe(m, prefix, 0, out);
      EXPECT_NE(out.problem, "") << n;
      for (const auto& f : out.fields) {
        EXPECT_LE(f.offset + f.length, n) << f.key;
        for (const auto& c : f.children) EXPECT_LE(c.offset + c.length, n) << c.key;
      }
      EXPECT_FALSE(summary(m, prefix).empty());
    }
  }
}

TEST(TlsRecord, LengthsPastWhatHoldsThemAreMalformed) {
  const auto problem = [](std::size_t at, std::uint16_t value) {
    Bytes b = kClientHello13;
    b[at] = static_cast<std::uint8_t>(value >> 8);
    b[at + 1] = static_cast<std::uint8_t>(value);
    const auto m = decode_tls(b);
    EXPECT_EQ(m.problem.kind, Problem::Kind::malformed) << at;
    dissect::Header out;
    describe(m, b, 0, out);
    EXPECT_FALSE(summary(m, b).empty());
    return std::string(m.problem.what);
  };
  // The handshake length (a 24-bit field at 6) past the record's 330 bytes.
  EXPECT_EQ(problem(7, 400), "the handshake message runs past its record");
  EXPECT_EQ(problem(76, 400), "the cipher suites run past the message");
  EXPECT_EQ(problem(76, 61), "a list's length is not a whole number of items");
  EXPECT_EQ(problem(142, 300), "the extensions run past the handshake message");
  EXPECT_EQ(problem(146, 200), "an extension runs past the extensions");  // SNI's length
  EXPECT_EQ(problem(148, 40), "the server name list runs past its extension");
  EXPECT_EQ(problem(151, 20), "a server name runs past its list");
  EXPECT_EQ(problem(3, 20000), "a record longer than 18432 bytes");
  Bytes long_session = kClientHello13;
  long_session[43] = 33;
  EXPECT_STREQ(decode_tls(long_session).problem.what, "a session id longer than 32 bytes");
  Bytes bad_type = kServerHello13;
  bad_type[127] = 0x63;  // the second record's content type
  EXPECT_STREQ(decode_tls(bad_type).problem.what,
               "a record header with an unknown type or version");
}

TEST(TlsRecord, AnyCorruptedByteIsDecodedWithinTheBytes) {
  // Each byte of the ClientHello set to values that hit lengths and types: decode, describe
  // and summary stay inside the bytes (ASan checks the reads).
  for (std::size_t i = 0; i < kClientHello13.size(); ++i) {
    for (const int value : {0x00, 0x01, 0x02, 0x16, 0x7f, 0xff}) {
      Bytes b = kClientHello13;
      b[i] = static_cast<std::uint8_t>(value);
      const auto m = decode_tls(b);
      dissect::Header out;
      describe(m, b, 0, out);
      for (const auto& f : out.fields) EXPECT_LE(f.offset + f.length, b.size()) << f.key;
      EXPECT_FALSE(summary(m, b).empty());
    }
  }
}

TEST(TlsRecord, NamesSuitesGroupsAndVersions) {
  EXPECT_EQ(cipher_suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_suite_name(0x0a0a), "Reserved (GREASE)");
  EXPECT_EQ(cipher_suite_name(0x0001), "");
  EXPECT_EQ(group_name(0x11ec), "X25519MLKEM768");
  EXPECT_EQ(version_name(0x0304), "TLS 1.3");
  EXPECT_EQ(handshake_type_name(11), "Certificate");
  EXPECT_EQ(extension_name(16), "application_layer_protocol_negotiation");
}

}  // namespace
}  // namespace duplex::tls
