// Internal to the CLI. The `duplex ip` command group, split along its subcommands:
// ip.cc (dispatch, the address/prefix report), ip_subnet.cc (same, split, aggregate, range).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "args.h"
#include "commands.h"
#include "duplex/base/error.h"
#include "duplex/inet/prefix.h"

namespace duplex::cli::ip {

using Json = nlohmann::ordered_json;  // keys in the order written, as documented

int same_main(Argv args);       // duplex ip same A B [--mask M]
int split_main(Argv args);      // duplex ip split PREFIX (--count N | --prefix LEN | --hosts H,...)
int aggregate_main(Argv args);  // duplex ip aggregate PREFIX...
int range_main(Argv args);      // duplex ip range A B

// Prints one JSON object on one line.
void print(const Json& j);

// Dotted binary with a space at the network/host boundary and the network bits coloured.
std::string marked_binary(const inet::Address& a, unsigned prefix_length);

// "label" padded to the label column.
std::string label(std::string_view text);

}  // namespace duplex::cli::ip
