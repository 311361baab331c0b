// Public. Runs a program per connection with the socket as its stdin and stdout (the
// --exec of `duplex listen`), without a shell unless one is asked for.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace duplex::apps {

// Splits a command line into argv the way a user expects without a shell: words separated
// by blanks; '...' and "..." quote (no expansion of any kind); a backslash escapes the next
// character outside single quotes. Throws duplex::ParseError on an unclosed quote or an
// empty command.
std::vector<std::string> split_command(std::string_view line);

// Starts argv[0] (searched in PATH) with `fd` as stdin and stdout; stderr is ours. The child
// gets default signal dispositions and an empty signal mask, whatever this process blocked
// or ignored, and `fd` is made blocking, as programs expect of stdin. Returns the pid; throws
// duplex::Error naming the program when it cannot start.
pid_t spawn_with_socket(int fd, const std::vector<std::string>& argv);
// The same with `in` as stdin and `out` as stdout (pipes, say), left as they are.
pid_t spawn_with_fds(int in, int out, const std::vector<std::string>& argv);

}  // namespace duplex::apps
