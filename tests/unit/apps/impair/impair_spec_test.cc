// apps/impair: the impairment flags, in netem's names, for one direction or both, and the
// one-line errors that bad ones get.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/apps/impair/impair_spec.h"
#include "duplex/base/error.h"

namespace duplex::impair {
namespace {

using namespace std::chrono_literals;

Directions parse(std::vector<std::string> words) { return parse_impairments(words); }

std::string error_of(std::vector<std::string> words) {
  try {
    parse(words);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ImpairSpec, FlagsApplyToBothDirectionsByDefault) {
  const auto d = parse({"--loss", "2%", "--delay", "20ms", "5ms", "--distribution", "normal",
                        "--rate", "10mbit", "--limit", "500"});
  for (const Spec* s : {&d.a_to_b, &d.b_to_a}) {
    EXPECT_DOUBLE_EQ(s->loss, 0.02);
    EXPECT_EQ(s->delay, 20ms);
    EXPECT_EQ(s->jitter, 5ms);
    EXPECT_EQ(s->distribution, Distribution::normal);
    EXPECT_DOUBLE_EQ(s->rate_bits, 10e6);
    EXPECT_EQ(s->limit, 500u);
  }
  EXPECT_EQ(d.a_to_b.describe(), "loss 2% delay 20ms 5ms normal rate 10mbit limit 500");
}

TEST(ImpairSpec, ADirectionsOwnFlagsWinOverBothWhateverTheOrder) {
  const auto d = parse({"--a-to-b", "--loss", "5%", "--both", "--loss", "1%", "--delay", "10ms",
                        "--b-to-a", "--delay", "30ms"});
  EXPECT_DOUBLE_EQ(d.a_to_b.loss, 0.05);
  EXPECT_DOUBLE_EQ(d.b_to_a.loss, 0.01);
  EXPECT_EQ(d.a_to_b.delay, 10ms);
  EXPECT_EQ(d.b_to_a.delay, 30ms);
}

TEST(ImpairSpec, GemodelTakesNetemsFourParametersAndItsDefaults) {
  auto d = parse({"--loss", "gemodel", "1%", "30%", "90%", "0.1%"});
  ASSERT_TRUE(d.a_to_b.gemodel);
  EXPECT_DOUBLE_EQ(d.a_to_b.gemodel->p, 0.01);
  EXPECT_DOUBLE_EQ(d.a_to_b.gemodel->r, 0.30);
  EXPECT_DOUBLE_EQ(d.a_to_b.gemodel->loss_bad, 0.90);
  EXPECT_DOUBLE_EQ(d.a_to_b.gemodel->loss_good, 0.001);
  d = parse({"--loss", "gemodel", "10%", "--delay", "1ms"});
  EXPECT_DOUBLE_EQ(d.b_to_a.gemodel->r, 0.90);  // r = 1 - p
  EXPECT_DOUBLE_EQ(d.b_to_a.gemodel->loss_bad, 1.0);
  EXPECT_DOUBLE_EQ(d.b_to_a.gemodel->loss_good, 0.0);
  EXPECT_EQ(d.b_to_a.delay, 1ms);
}

TEST(ImpairSpec, ValuesInTcsUnits) {
  EXPECT_EQ(parse_time("1.5s"), 1500ms);
  EXPECT_EQ(parse_time("250us"), 250us);
  EXPECT_DOUBLE_EQ(parse_rate("1gbit"), 1e9);
  EXPECT_DOUBLE_EQ(parse_rate("100kbps"), 800e3);  // bytes per second, as tc
  EXPECT_DOUBLE_EQ(parse_rate("10Mbit"), 10e6);
  EXPECT_DOUBLE_EQ(parse_percent("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(parse_percent("3"), 0.03);
  EXPECT_EQ(format_time(1500us), "1.5ms");
  EXPECT_EQ(format_rate(2.5e9), "2.5gbit");
}

TEST(ImpairSpec, NoFlagsIsNoImpairment) {
  const auto d = parse({});
  EXPECT_TRUE(d.a_to_b.empty());
  EXPECT_EQ(d.b_to_a.describe(), "none");
}

TEST(ImpairSpec, BadInputNamesTheWordAndTheFix) {
  EXPECT_EQ(error_of({"--loss"}), "--loss needs a value, e.g. --loss 2% or --loss gemodel 1% 25%");
  EXPECT_EQ(error_of({"--loss", "lots"}),
            "'lots' is not a percentage; write it as e.g. 2% or 0.5%");
  EXPECT_EQ(error_of({"--loss", "120%"}), "'120%' is above 100%");
  EXPECT_EQ(error_of({"--delay", "20"}),
            "'20' is not a time; give a number and a unit: 20ms, 500us, 1s");
  EXPECT_NE(error_of({"--rate", "fast"}).find("is not a rate"), std::string::npos);
  EXPECT_NE(error_of({"--distribution", "gauss"}).find("use uniform, normal"), std::string::npos);
  EXPECT_NE(error_of({"--reorder", "25%"}).find("--reorder needs --delay"), std::string::npos);
  EXPECT_NE(error_of({"--limit", "0"}).find("whole number from 1"), std::string::npos);
  EXPECT_NE(error_of({"--loss", "2%", "25%"}).find("correlation is not supported"),
            std::string::npos);
  EXPECT_EQ(error_of({"--jitter", "5ms"}), "unexpected '--jitter'; see --help for the impairments");
}

}  // namespace
}  // namespace duplex::impair
