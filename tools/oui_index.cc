// Build-time generator: reads the IEEE registries that Debian's ieee-data ships (oui.csv,
// mam.csv, oui36.csv, iab.csv) and writes the compact vendor index that the link library
// embeds (layout in src/duplex/link/internal/oui_index_format.h).
//
//   duplex_oui_index --out oui_index.bin [--lastupdate FILE] CSV...
//
// The output depends only on the input bytes: entries are sorted, names are stored in the
// order the sorted entries first use them, and nothing from the clock or the environment
// goes in. Any malformed row fails the build with the file and line named.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/link/internal/oui_index_format.h"

namespace fmt = duplex::link::oui_format;

namespace {

struct Failure {
  std::string message;
};

struct Row {
  std::uint32_t registry;
  std::uint64_t key;
  unsigned bits;
  std::string organization;
  std::size_t order;  // position across all inputs, so that duplicates merge in file order
};

// Reads RFC 4180 CSV: quoted fields may hold commas, "" and line breaks; records end in
// CRLF or LF. Returns the records with the line each starts on.
std::vector<std::pair<std::size_t, std::vector<std::string>>> read_csv(const std::string& text,
                                                                       const std::string& path) {
  std::vector<std::pair<std::size_t, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  std::string field;
  std::size_t line = 1, record_line = 1;
  bool quoted = false, field_started = false;
  auto end_record = [&] {
    fields.push_back(std::move(field));
    field.clear();
    if (!(fields.size() == 1 && fields[0].empty())) records.emplace_back(record_line, fields);
    fields.clear();
    field_started = false;
    record_line = line;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // the LF ends the record
    } else if (c == '\n') {
      ++line;
      end_record();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted) throw Failure{path + ":" + std::to_string(record_line) + ": unterminated quote"};
  if (field_started || !fields.empty()) end_record();
  return records;
}

// Names are shown on one line: ends trimmed, control characters (a few names carry tabs)
// turned into spaces.
std::string clean_name(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool registry_of(std::string_view name, std::uint32_t& code, unsigned& bits) {
  if (name == "MA-L")
    code = fmt::kMaL, bits = 24;
  else if (name == "MA-M")
    code = fmt::kMaM, bits = 28;
  else if (name == "MA-S")
    code = fmt::kMaS, bits = 36;
  else if (name == "IAB")
    code = fmt::kIab, bits = 36;
  else
    return false;
  return true;
}

void read_registry(const std::string& path, std::vector<Row>& rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{"cannot read " + path + "; run scripts/setup to install ieee-data"};
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto records = read_csv(text, path);
  if (records.empty() || records[0].second.empty() || records[0].second[0] != "Registry")
    throw Failure{path + ": expected a header line starting with 'Registry'"};
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& [line, f] = records[r];
    const std::string where = path + ":" + std::to_string(line) + ": ";
    if (f.size() != 4) throw Failure{where + std::to_string(f.size()) + " fields, expected 4"};
    Row row{};
    if (!registry_of(f[0], row.registry, row.bits))
      throw Failure{where + "unknown registry '" + f[0] + "'"};
    const std::string& hex = f[1];
    if (hex.size() * 4 != row.bits)
      throw Failure{where + "assignment '" + hex + "' is not " + std::to_string(row.bits) +
                    " bits long"};
    for (char c : hex) {
      const int v = hex_digit(c);
      if (v < 0) throw Failure{where + "assignment '" + hex + "' is not hex"};
      row.key = (row.key << 4) | static_cast<std::uint64_t>(v);
    }
    row.organization = clean_name(f[2]);
    if (row.organization.empty()) row.organization = "(no name given)";
    row.order = rows.size();
    rows.push_back(std::move(row));
  }
}

void put_u32(std::string& out, std::size_t at, std::uint64_t v) {
  if (v > 0xffffffffu) throw Failure{"index too large for its 32-bit fields"};
  for (std::size_t i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_u64(std::string& out, std::size_t at, std::uint64_t v) {
  put_u32(out, at, v & 0xffffffffu);
  put_u32(out, at + 4, v >> 32);
}

std::string build_index(std::vector<Row> rows, std::uint64_t snapshot, const std::string& source) {
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.bits != b.bits ? a.bits < b.bits : a.key < b.key;
  });

  std::string out(fmt::kHeaderSize, '\0');
  std::copy(std::begin(fmt::kMagic), std::end(fmt::kMagic), out.begin() + fmt::kMagicAt);
  put_u32(out, fmt::kVersionAt, fmt::kVersion);

  // A few prefixes were assigned to several organisations in the registry's early days
  // (08:00:30 to three); one entry then names them all, in file order.
  struct Merged {
    std::uint64_t key;
    std::uint32_t registry;
    std::string name;
  };
  std::vector<Merged> merged[fmt::kTableCount];
  std::uint32_t blocks[fmt::kRegistryCount] = {};
  for (const Row& row : rows) {
    const auto t = static_cast<std::size_t>(
        std::find(std::begin(fmt::kPrefixBits), std::end(fmt::kPrefixBits), row.bits) -
        std::begin(fmt::kPrefixBits));
    auto& table = merged[t];
    if (!table.empty() && table.back().key == row.key) {
      table.back().name += "; " + row.organization;
      continue;
    }
    table.push_back({row.key, row.registry, row.organization});
    ++blocks[row.registry];
  }

  std::string strings;
  std::map<std::string, std::uint32_t> offsets;
  auto intern = [&](const std::string& name) {
    auto [it, fresh] = offsets.try_emplace(name, static_cast<std::uint32_t>(strings.size()));
    if (fresh) {
      if (name.size() > 255) throw Failure{"name longer than 255 bytes: " + name};
      strings.push_back(static_cast<char>(name.size()));
      strings += name;
      if (strings.size() > fmt::kOffsetMask) throw Failure{"string table over 16 MiB"};
    }
    return it->second;
  };
  std::vector<std::uint64_t> entries[fmt::kTableCount];
  for (std::size_t t = 0; t < fmt::kTableCount; ++t) {
    for (const auto& m : merged[t])
      entries[t].push_back(fmt::pack(m.key, m.registry, intern(m.name)));
  }
  put_u32(out, fmt::kSourceAt, intern(source));

  for (std::size_t t = 0; t < fmt::kTableCount; ++t) {
    while (out.size() % 8 != 0) out.push_back('\0');
    const std::size_t at = fmt::kTablesAt + t * fmt::kTableHeaderSize;
    put_u32(out, at, fmt::kPrefixBits[t]);
    put_u32(out, at + 4, entries[t].size());
    put_u32(out, at + 8, out.size());
    for (std::uint64_t e : entries[t]) {
      out.append(8, '\0');
      put_u64(out, out.size() - 8, e);
    }
  }
  put_u32(out, fmt::kStringsAt, out.size());
  put_u32(out, fmt::kStringsAt + 4, strings.size());
  out += strings;
  for (std::size_t r = 0; r < fmt::kRegistryCount; ++r)
    put_u32(out, fmt::kBlocksAt + 4 * r, blocks[r]);
  put_u64(out, fmt::kSnapshotAt, snapshot);
  return out;
}

// ieee-data's .lastupdate holds the Unix time of the snapshot; 0 when absent.
std::uint64_t read_snapshot(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t t = 0;
  if (in) in >> t;
  return in ? t : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path, lastupdate;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "--out" || a == "--lastupdate") && i + 1 < argc) {
      (a == "--out" ? out_path : lastupdate) = argv[++i];
    } else {
      inputs.emplace_back(a);
    }
  }
  if (out_path.empty() || inputs.empty()) {
    std::cerr << "usage: duplex_oui_index --out FILE [--lastupdate FILE] CSV...\n";
    return 2;
  }
  try {
    std::vector<Row> rows;
    for (const auto& path : inputs) read_registry(path, rows);
    // The directory is recorded so that users (and the unit tests) can find the source.
    const auto slash = inputs.front().find_last_of('/');
    const std::string source = slash == std::string::npos ? "." : inputs.front().substr(0, slash);
    const std::string index =
        build_index(std::move(rows), lastupdate.empty() ? 0 : read_snapshot(lastupdate), source);
    const std::string tmp = out_path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(index.data(), static_cast<std::streamsize>(index.size()));
      if (!out.flush()) throw Failure{"cannot write " + tmp};
    }
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0)
      throw Failure{"cannot rename " + tmp + " to " + out_path};
  } catch (const Failure& f) {
    std::cerr << "duplex_oui_index: " << f.message << '\n';
    return 1;
  }
  return 0;
}
