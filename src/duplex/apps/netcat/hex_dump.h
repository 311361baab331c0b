// Public. A traffic dump in the layout of `hexdump -C`, with the direction in front, so
// both halves of a conversation can be read from one stream:
//   > 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|
// '>' marks bytes we sent, '<' bytes we received; the offset counts within that direction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::apps {

// The lines (each ending in '\n') for `data`, which starts at `offset` of its direction.
std::string hex_dump(char direction, std::uint64_t offset, std::string_view data);

}  // namespace duplex::apps
