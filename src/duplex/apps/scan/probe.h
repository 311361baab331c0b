// Internal to apps/scan. One probe's socket and what the kernel's answer means.
#pragma once

#include <optional>

#include "duplex/apps/scan/scan_result.h"
#include "duplex/inet/endpoint.h"
#include "duplex/transport/socket.h"

namespace duplex::scan {

// Opens a non-blocking socket of `protocol` and starts the probe: connect() for TCP;
// connect() and one datagram for UDP. Returns the socket, with `outcome` set when the answer
// is known already (a local error), or an invalid socket with *err set when the machine is
// out of something (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS, EAGAIN): try again later.
Socket start_probe(Protocol protocol, const inet::Endpoint& to, std::optional<PortOutcome>& outcome,
                   int* err);

// The state an error from connect(), SO_ERROR or recv() stands for (0: TCP connected).
PortOutcome outcome_of(Protocol protocol, int err) noexcept;

// Reads what a UDP probe's socket holds: an answer is open, an error its state; nullopt
// when there was nothing (a spurious wake-up).
std::optional<PortOutcome> read_udp_answer(const Socket& s);

// Whether connect()/socket() failed for want of a resource rather than an answer.
bool is_resource_error(int err) noexcept;

}  // namespace duplex::scan
