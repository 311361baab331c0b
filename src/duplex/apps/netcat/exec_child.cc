#include "duplex/apps/netcat/exec_child.h"

#include <fcntl.h>
#include <spawn.h>

#include <csignal>
#include <cstring>

#include "duplex/base/error.h"

extern char** environ;

namespace duplex::apps {

std::vector<std::string> split_command(std::string_view line) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote)
    throw ParseError(std::string("unclosed ") + quote + " in command '" + std::string(line) +
                     "'; close the quote");
  if (in_word) out.push_back(std::move(word));
  if (out.empty()) throw ParseError("empty command; give a program to run, e.g. --exec 'cat'");
  return out;
}

pid_t spawn_with_socket(int fd, const std::vector<std::string>& argv) {
  // Accepted sockets are non-blocking; ordinary programs expect blocking stdin/stdout
  // (cat fails with EAGAIN otherwise). The flag lives in the shared file description.
  if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0 && (flags & O_NONBLOCK))
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return spawn_with_fds(fd, fd, argv);
}

pid_t spawn_with_fds(int in, int out, const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw Error("cannot run '" + argv[0] + "': " + std::strerror(rc) +
                "; check the program's name and PATH");
  return pid;
}

}  // namespace duplex::apps
