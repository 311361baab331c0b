#include "duplex/link/oui.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace duplex::link::oui {
namespace {

// The registries as this test reads them itself, straight from the CSV files the index was
// built from, with its own CSV reader: key = (prefix length, prefix), value = the names.
struct Registries {
  std::map<std::pair<unsigned, std::uint64_t>, std::vector<std::string>> blocks;
  std::map<std::string, std::size_t> per_registry;  // distinct blocks per registry
  struct Row {
    std::string registry;
    unsigned bits;
    std::uint64_t prefix;
  };
  std::vector<Row> rows;
};

std::string trimmed(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
  const auto a = s.find_first_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, s.find_last_not_of(' ') - a + 1);
}

// Splits a whole CSV file into records of fields (quotes, "" and quoted line breaks).
std::vector<std::vector<std::string>> csv_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes && c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
      field += '"';
      ++i;
    } else if (c == '"') {
      in_quotes = !in_quotes;
    } else if (!in_quotes && c == ',') {
      records.back().push_back(std::exchange(field, {}));
    } else if (!in_quotes && c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      records.back().push_back(std::exchange(field, {}));
      records.emplace_back();
    } else {
      field += c;
    }
  }
  if (records.back().empty()) records.pop_back();
  return records;
}

const Registries& registries() {
  static const Registries r = [] {
    Registries out;
    const std::string dir(snapshot().source);
    for (const char* file : {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}) {
      const auto records = csv_records(dir + "/" + file);
      EXPECT_GT(records.size(), 1u) << "cannot read " << dir << "/" << file;
      for (std::size_t i = 1; i < records.size(); ++i) {
        const auto& f = records[i];
        if (f.size() != 4) {
          ADD_FAILURE() << file << " record " << i << " has " << f.size() << " fields";
          continue;
        }
        const auto bits = static_cast<unsigned>(f[1].size() * 4);
        const std::uint64_t prefix = std::stoull(f[1], nullptr, 16);
        auto& names = out.blocks[{bits, prefix}];
        if (names.empty()) ++out.per_registry[f[0]];
        names.push_back(trimmed(f[2]));
        out.rows.push_back({f[0], bits, prefix});
      }
    }
    return out;
  }();
  return r;
}

// The longest registered block holding `mac`, by brute force over the three lengths.
const std::vector<std::string>* expected_owner(const MacAddress& mac, unsigned* bits_out) {
  for (unsigned bits : {36u, 28u, 24u}) {
    auto it = registries().blocks.find({bits, mac.to_uint64() >> (48 - bits)});
    if (it != registries().blocks.end()) {
      *bits_out = bits;
      return &it->second;
    }
  }
  return nullptr;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "; ") + n;
  return out;
}

TEST(OuiLookup, CiscosFirstOuiNamesCisco) {
  const auto a = lookup(MacAddress::parse("00:00:0c:12:34:56"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, "Cisco Systems, Inc");
  EXPECT_EQ(a->registry, Registry::ma_l);
  EXPECT_EQ(a->to_string(), "00:00:0c:00:00:00/24");
}

TEST(OuiLookup, MaSBlockInsideTheIeeesOwnMaLNamesTheMaSOwner) {
  // oui36.csv: MA-S,70B3D5F2F,TELEPLATFORMS; oui.csv: MA-L,70B3D5,IEEE Registration Authority
  const auto a = lookup(MacAddress::parse("70:b3:d5:f2:fa:bc"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, "TELEPLATFORMS");
  EXPECT_EQ(a->registry, Registry::ma_s);
  EXPECT_EQ(a->prefix_length, 36u);
  EXPECT_EQ(a->first().to_string(), "70:b3:d5:f2:f0:00");
  EXPECT_EQ(a->last().to_string(), "70:b3:d5:f2:ff:ff");
}

TEST(OuiLookup, MaMBlockNamesItsOwnerWithA28BitPrefix) {
  // mam.csv: MA-M,208593B,IOG Products LLC
  const auto a = lookup(MacAddress::parse("20:85:93:b1:23:45"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, "IOG Products LLC");
  EXPECT_EQ(a->registry, Registry::ma_m);
  EXPECT_EQ(a->to_string(), "20:85:93:b0:00:00/28");
  EXPECT_EQ(a->size(), 1u << 20);
}

TEST(OuiLookup, IabBlockNamesItsOwner) {
  // iab.csv: IAB,0050C27D5,DEUTA-WERKE GmbH
  const auto a = lookup(MacAddress::parse("00:50:c2:7d:5a:bc"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, "DEUTA-WERKE GmbH");
  EXPECT_EQ(a->registry, Registry::iab);
}

TEST(OuiLookup, UnassignedOuiHasNoVendor) {
  // The first universal, individual OUI after 00:00:00 that no registry lists.
  std::uint64_t oui = 0;
  while (registries().blocks.count({24, oui}) || (oui & 0x030000)) ++oui;
  const auto mac = MacAddress::from_uint64(oui << 24 | 0x123456);
  unsigned bits = 0;
  ASSERT_EQ(expected_owner(mac, &bits), nullptr);
  EXPECT_EQ(lookup(mac), std::nullopt) << mac.to_string();
}

TEST(OuiLookup, LocallyAdministeredAddressHasNoVendor) {
  // 02:00:0c carries Cisco's OUI bits with U/L set; no registry lists that prefix.
  const auto mac = MacAddress::parse("02:00:0c:12:34:56");
  ASSERT_TRUE(mac.is_local());
  unsigned bits = 0;
  ASSERT_EQ(expected_owner(mac, &bits), nullptr);
  EXPECT_EQ(lookup(mac), std::nullopt);
}

TEST(OuiLookup, BroadcastHasNoVendor) { EXPECT_EQ(lookup(MacAddress::broadcast()), std::nullopt); }

TEST(OuiLookup, HistoricBlockInTheLocalHalfIsReturnedAsListed) {
  // oui.csv: MA-L,AA0004,DIGITAL EQUIPMENT CORPORATION (DECnet sets AA:00:04:00:xx:xx)
  const auto a = lookup(MacAddress::parse("aa:00:04:00:12:34"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, "DIGITAL EQUIPMENT CORPORATION");
}

TEST(OuiLookup, GroupAddressIsLookedUpWithoutItsGroupBit) {
  const auto cdp = lookup(MacAddress::parse("01:00:0c:cc:cc:cc"));
  ASSERT_TRUE(cdp);
  EXPECT_EQ(cdp->organization, "Cisco Systems, Inc");
}

TEST(OuiLookup, PrefixAssignedToSeveralOrganisationsNamesThemAllInFileOrder) {
  const auto& names = registries().blocks.at({24, 0x080030});
  ASSERT_GT(names.size(), 1u);
  const auto a = lookup(MacAddress::parse("08:00:30:00:00:01"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->organization, joined(names));
}

// Every registered block, with random host bits (fixed seed), must resolve to what the
// CSV files say owns that address: the block itself or a longer one inside it.
TEST(OuiLookup, EveryRegisteredBlockResolvesAsTheCsvFilesSay) {
  std::mt19937_64 random(20260530);
  std::size_t checked = 0;
  for (const auto& row : registries().rows) {
    const std::uint64_t host = random() & ((std::uint64_t{1} << (48 - row.bits)) - 1);
    const auto mac = MacAddress::from_uint64(row.prefix << (48 - row.bits) | host);
    unsigned bits = 0;
    const auto* names = expected_owner(mac, &bits);
    ASSERT_NE(names, nullptr);
    const auto a = lookup(mac);
    ASSERT_TRUE(a) << mac.to_string();
    EXPECT_EQ(a->organization, joined(*names)) << mac.to_string();
    EXPECT_EQ(a->prefix_length, bits) << mac.to_string();
    ++checked;
  }
  EXPECT_GT(checked, 40000u);
}

TEST(OuiSnapshot, CountsTheBlocksOfEachRegistry) {
  const Snapshot s = snapshot();
  EXPECT_EQ(s.ma_l, registries().per_registry.at("MA-L"));
  EXPECT_EQ(s.ma_m, registries().per_registry.at("MA-M"));
  EXPECT_EQ(s.ma_s, registries().per_registry.at("MA-S"));
  EXPECT_EQ(s.iab, registries().per_registry.at("IAB"));
}

TEST(OuiSnapshot, IndexIsSmallerThanTheCsvFilesItCameFrom) {
  std::size_t csv_bytes = 0;
  for (const char* file : {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}) {
    std::ifstream in(std::string(snapshot().source) + "/" + file, std::ios::binary | std::ios::ate);
    csv_bytes += static_cast<std::size_t>(in.tellg());
  }
  EXPECT_GT(snapshot().index_bytes, 0u);
  EXPECT_LT(snapshot().index_bytes, csv_bytes / 2);
}

TEST(OuiRegistry, NamesAreWrittenAsTheIeeeWritesThem) {
  EXPECT_EQ(to_string(Registry::ma_l), "MA-L");
  EXPECT_EQ(to_string(Registry::ma_m), "MA-M");
  EXPECT_EQ(to_string(Registry::ma_s), "MA-S");
  EXPECT_EQ(to_string(Registry::iab), "IAB");
}

}  // namespace
}  // namespace duplex::link::oui
