#include "duplex/apps/impair/impair_spec.h"

#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

#include "duplex/base/error.h"

namespace duplex::impair {
namespace {

// Reads the leading non-negative decimal number of `text`; `rest` is what follows it.
std::optional<double> number_prefix(std::string_view text, std::string_view* rest) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  const std::string digits(text.substr(0, i));
  char* end = nullptr;
  const double v = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(v)) return std::nullopt;
  *rest = text.substr(i);
  return v;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string trim_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string percent_text(double p) { return trim_number(p * 100) + "%"; }

bool looks_like_percent(const std::string& w) {
  std::string_view rest;
  return number_prefix(w, &rest) && (rest.empty() || rest == "%");
}

bool looks_like_time(const std::string& w) {
  std::string_view rest;
  return number_prefix(w, &rest) && !rest.empty() && rest != "%";
}

class Reader {
 public:
  explicit Reader(std::span<const std::string> words) : words_(words) {}
  bool done() const { return i_ >= words_.size(); }
  const std::string& next() { return words_[i_++]; }
  const std::string* peek() const { return done() ? nullptr : &words_[i_]; }
  const std::string& value(const std::string& flag, const char* example) {
    if (done() || words_[i_].starts_with("--"))
      throw ParseError(flag + " needs a value, e.g. " + flag + " " + example);
    return words_[i_++];
  }

 private:
  std::span<const std::string> words_;
  std::size_t i_ = 0;
};

void read_gemodel(Reader& in, Spec& spec) {
  GilbertElliott ge;
  std::vector<double> v;
  while (v.size() < 4 && in.peek() && looks_like_percent(*in.peek()))
    v.push_back(parse_percent(in.next()));
  if (v.empty())
    throw ParseError("--loss gemodel needs p [r [1-h [1-k]]], e.g. --loss gemodel 1% 25%");
  ge.p = v[0];
  ge.r = v.size() > 1 ? v[1] : 1 - ge.p;  // netem: r defaults to 1 - p
  if (v.size() > 2) ge.loss_bad = v[2];
  if (v.size() > 3) ge.loss_good = v[3];
  if (ge.p + ge.r <= 0)
    throw ParseError("--loss gemodel: p and r are both 0, so the chain never moves; give r > 0");
  spec.gemodel = ge;
  spec.loss = 0;  // a later --loss replaces an earlier one (a direction's own over --both)
}

void read_loss(Reader& in, Spec& spec) {
  const std::string& first = in.value("--loss", "2% or --loss gemodel 1% 25%");
  if (first == "gemodel" || first == "ge") return read_gemodel(in, spec);
  const std::string& p = first == "random" ? in.value("--loss random", "2%") : first;
  spec.loss = parse_percent(p);
  spec.gemodel.reset();
  if (in.peek() && looks_like_percent(*in.peek()))
    throw ParseError("--loss " + p + " " + *in.peek() +
                     ": a loss correlation is not supported; use --loss gemodel for bursts");
}

void read_delay(Reader& in, Spec& spec) {
  spec.delay = parse_time(in.value("--delay", "20ms or --delay 20ms 5ms"));
  if (in.peek() && looks_like_time(*in.peek())) spec.jitter = parse_time(in.next());
  if (in.peek() && looks_like_percent(*in.peek()))
    throw ParseError("--delay: a delay correlation (" + *in.peek() +
                     ") is not supported; give the delay and the jitter only");
}

Distribution parse_distribution(const std::string& w) {
  if (w == "uniform") return Distribution::uniform;
  if (w == "normal") return Distribution::normal;
  if (w == "pareto") return Distribution::pareto;
  if (w == "paretonormal") return Distribution::paretonormal;
  throw ParseError("--distribution '" + w + "': use uniform, normal, pareto or paretonormal");
}

std::uint64_t parse_count(const std::string& flag, const std::string& w, std::uint64_t max) {
  std::string_view rest;
  const auto v = number_prefix(w, &rest);
  if (!v || !rest.empty() || *v != std::floor(*v) || *v < 1 || *v > static_cast<double>(max))
    throw ParseError(flag + " '" + w + "': give a whole number from 1 to " + std::to_string(max));
  return static_cast<std::uint64_t>(*v);
}

}  // namespace

bool Spec::empty() const noexcept {
  return loss == 0 && !gemodel && delay.count() == 0 && jitter.count() == 0 && rate_bits == 0 &&
         reorder == 0 && duplicate == 0 && corrupt == 0;
}

std::string Spec::describe() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  if (loss > 0) add("loss " + percent_text(loss));
  if (gemodel)
    add("loss gemodel " + percent_text(gemodel->p) + " " + percent_text(gemodel->r) + " " +
        percent_text(gemodel->loss_bad) + " " + percent_text(gemodel->loss_good));
  if (delay.count() > 0 || jitter.count() > 0) {
    add("delay " + format_time(delay));
    if (jitter.count() > 0) {
      static constexpr const char* kNames[] = {"uniform", "normal", "pareto", "paretonormal"};
      add(format_time(jitter) + " " + kNames[static_cast<int>(distribution)]);
    }
  }
  if (reorder > 0) add("reorder " + percent_text(reorder));
  if (duplicate > 0) add("duplicate " + percent_text(duplicate));
  if (corrupt > 0) add("corrupt " + percent_text(corrupt));
  if (rate_bits > 0) {
    add("rate " + format_rate(rate_bits));
    if (burst_bytes > 0) add("burst " + std::to_string(burst_bytes));
  }
  if (out.empty()) return "none";
  add("limit " + std::to_string(limit));
  return out;
}

double parse_percent(const std::string& text) {
  std::string_view rest;
  const auto v = number_prefix(text, &rest);
  if (!v || !(rest.empty() || rest == "%"))
    throw ParseError("'" + text + "' is not a percentage; write it as e.g. 2% or 0.5%");
  if (*v > 100) throw ParseError("'" + text + "' is above 100%");
  return *v / 100;
}

Nanos parse_time(const std::string& text) {
  std::string_view rest;
  const auto v = number_prefix(text, &rest);
  const std::string unit = lower(rest);
  double scale = 0;
  if (unit == "s" || unit == "sec" || unit == "secs") scale = 1e9;
  if (unit == "ms" || unit == "msec" || unit == "msecs") scale = 1e6;
  if (unit == "us" || unit == "usec" || unit == "usecs") scale = 1e3;
  if (unit == "ns" || unit == "nsec" || unit == "nsecs") scale = 1;
  if (!v || scale == 0)
    throw ParseError("'" + text + "' is not a time; give a number and a unit: 20ms, 500us, 1s");
  if (*v * scale > 60e9) throw ParseError("'" + text + "' is above the 60 s that we hold frames");
  return Nanos(static_cast<std::int64_t>(std::llround(*v * scale)));
}

double parse_rate(const std::string& text) {
  std::string_view rest;
  const auto v = number_prefix(text, &rest);
  const std::string unit = lower(rest);
  // tc's units: "bit" are bits per second, "bps" bytes per second (tc(8)).
  static constexpr struct {
    const char* name;
    double scale;
  } kUnits[] = {{"bit", 1},       {"kbit", 1e3},      {"mbit", 1e6},     {"gbit", 1e9},
                {"bps", 8},       {"kbps", 8e3},      {"mbps", 8e6},     {"gbps", 8e9},
                {"kibit", 1024.}, {"mibit", 1 << 20}, {"gibit", 1 << 30}};
  for (const auto& u : kUnits) {
    if (v && unit == u.name) {
      if (*v * u.scale < 8000)
        throw ParseError("--rate '" + text +
                         "' is below 8kbit, too slow to carry a frame a second");
      return *v * u.scale;
    }
  }
  throw ParseError("'" + text +
                   "' is not a rate; give a number and a unit: 10mbit, 1gbit, 500kbit "
                   "(bit: bits/s; bps: bytes/s, as tc)");
}

std::string format_time(Nanos t) {
  const double ns = static_cast<double>(t.count());
  if (ns >= 1e9) return trim_number(ns / 1e9) + "s";
  if (ns >= 1e6) return trim_number(ns / 1e6) + "ms";
  if (ns >= 1e3) return trim_number(ns / 1e3) + "us";
  return trim_number(ns) + "ns";
}

std::string format_rate(double b) {
  if (b >= 1e9) return trim_number(b / 1e9) + "gbit";
  if (b >= 1e6) return trim_number(b / 1e6) + "mbit";
  if (b >= 1e3) return trim_number(b / 1e3) + "kbit";
  return trim_number(b) + "bit";
}

bool is_impairment_flag(const std::string& w) {
  static constexpr std::string_view kFlags[] = {
      "--loss",    "--delay",     "--distribution", "--rate",   "--burst",  "--limit",
      "--reorder", "--duplicate", "--corrupt",      "--a-to-b", "--b-to-a", "--both"};
  for (auto f : kFlags)
    if (w == f) return true;
  return false;
}

Directions parse_impairments(std::span<const std::string> words) {
  Directions d;
  Spec* targets[2] = {&d.a_to_b, &d.b_to_a};
  // Flags for both directions are kept apart and applied first, so that `--both` settings
  // never undo a direction's own, whatever the order on the command line.
  std::vector<std::pair<int, std::vector<std::string>>> groups;  // 0 both, 1 a->b, 2 b->a
  int scope = 0;
  for (const auto& w : words) {
    if (w == "--both" || w == "--a-to-b" || w == "--b-to-a") {
      scope = w == "--both" ? 0 : w == "--a-to-b" ? 1 : 2;
      continue;
    }
    if (groups.empty() || groups.back().first != scope) groups.push_back({scope, {}});
    groups.back().second.push_back(w);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [where, list] : groups) {
      if ((pass == 0) != (where == 0)) continue;
      for (int side = 0; side < 2; ++side) {
        if (where != 0 && where != side + 1) continue;
        Spec& s = *targets[side];
        Reader in(list);
        while (!in.done()) {
          const std::string flag = in.next();
          if (flag == "--loss") {
            read_loss(in, s);
          } else if (flag == "--delay") {
            read_delay(in, s);
          } else if (flag == "--distribution") {
            s.distribution = parse_distribution(in.value(flag, "normal"));
          } else if (flag == "--rate") {
            s.rate_bits = parse_rate(in.value(flag, "10mbit"));
          } else if (flag == "--burst") {
            s.burst_bytes = parse_count(flag, in.value(flag, "15000"), 1u << 30);
          } else if (flag == "--limit") {
            s.limit = parse_count(flag, in.value(flag, "1000"), 1'000'000);
          } else if (flag == "--reorder") {
            s.reorder = parse_percent(in.value(flag, "25%"));
          } else if (flag == "--duplicate") {
            s.duplicate = parse_percent(in.value(flag, "1%"));
          } else if (flag == "--corrupt") {
            s.corrupt = parse_percent(in.value(flag, "0.1%"));
          } else {
            throw ParseError("unexpected '" + flag + "'; see --help for the impairments");
          }
        }
      }
    }
  }
  for (const Spec* s : targets) {
    if (s->reorder > 0 && s->delay.count() == 0)
      throw ParseError(
          "--reorder needs --delay: a reordered frame is one sent without the delay, so it "
          "overtakes the others (e.g. --delay 10ms --reorder 25%)");
  }
  return d;
}

}  // namespace duplex::impair
