// Public. The callback types of TCP connections, servers and clients. Every callback runs
// in the loop thread of the connection it names.
#pragma once

#include <functional>
#include <memory>

#include "duplex/reactor/timer_queue.h"

namespace duplex {

class Buffer;
class TcpConnection;
using TcpConnectionPtr = std::shared_ptr<TcpConnection>;

// The connection came up (connected() is true) or went down (false).
using ConnectionCallback = std::function<void(const TcpConnectionPtr&)>;
// Bytes arrived; they are in `input`, and what the callback leaves there stays for next time.
using MessageCallback =
    std::function<void(const TcpConnectionPtr&, Buffer& input, Clock::time_point received)>;
// The output buffer drained into the kernel.
using WriteCompleteCallback = std::function<void(const TcpConnectionPtr&)>;
// The output buffer grew past the high-water mark; `buffered` is its size now.
using HighWaterMarkCallback = std::function<void(const TcpConnectionPtr&, std::size_t buffered)>;
using CloseCallback = std::function<void(const TcpConnectionPtr&)>;
// The peer sent FIN (it will send nothing more); `unread` holds what the message callback
// left, e.g. a last line without its newline.
using PeerShutdownCallback = std::function<void(const TcpConnectionPtr&, Buffer& unread)>;

}  // namespace duplex
