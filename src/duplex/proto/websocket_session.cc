#include "duplex/proto/websocket_session.h"

#include <algorithm>
#include <utility>

namespace duplex::websocket {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::span<std::uint8_t> tail_of(std::string& s, std::size_t n) noexcept {
  return {reinterpret_cast<std::uint8_t*>(s.data() + s.size() - n), n};
}

}  // namespace

Session::Session(Role role, SessionOptions options)
    : role_(role), options_(options), decoder_(role) {}

void Session::receive(std::span<const std::uint8_t> bytes) {
  while (state_ != State::closed) {
    const auto r = decoder_.next(bytes);
    bytes = bytes.subspan(r.consumed);
    switch (r.event) {
      case FrameDecoder::Event::need_more:
        return;
      case FrameDecoder::Event::error:
        fail(r.code, r.reason);
        return;
      case FrameDecoder::Event::header: {
        const auto& h = decoder_.header();
        if (is_control(h.opcode)) {
          control_.clear();
        } else {
          if (h.opcode != Opcode::continuation) {
            message_opcode_ = h.opcode;
            message_.clear();
            utf8_.reset();
          }
          // Refused from the header alone, so a huge announced length allocates nothing.
          if (h.payload_length > options_.max_message_size - message_.size()) {
            fail(CloseCode::message_too_big, "message over the size limit");
            return;
          }
          // Reserve for the first frame only (later fragments grow the string geometrically),
          // and at most 64 KiB: a peer announcing a big frame and then stalling must not make
          // each connection hold the whole limit.
          if (message_.empty()) {
            message_.reserve(static_cast<std::size_t>(
                std::min<std::uint64_t>(h.payload_length, std::uint64_t{64} << 10)));
          }
        }
        break;
      }
      case FrameDecoder::Event::payload: {
        const auto& h = decoder_.header();
        std::string& dst = is_control(h.opcode) ? control_ : message_;
        dst.append(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
        const auto fresh = tail_of(dst, r.payload.size());
        if (h.masked) apply_mask(fresh, h.mask, r.offset);
        // Text is checked as it arrives, so a bad byte fails the connection at once.
        if (&dst == &message_ && message_opcode_ == Opcode::text && !utf8_.feed(fresh)) {
          fail(CloseCode::invalid_payload, "text message is not valid UTF-8");
          return;
        }
        break;
      }
    }
    if (r.frame_end) on_frame_end();
  }
}

void Session::on_frame_end() {
  const auto& h = decoder_.header();
  switch (h.opcode) {
    case Opcode::ping:
      if (state_ == State::open) queue_frame(Opcode::pong, bytes_of(control_), true);
      push(Event::Kind::ping, std::move(control_));
      return;
    case Opcode::pong:
      push(Event::Kind::pong, std::move(control_));
      return;
    case Opcode::close:
      on_close_frame();
      return;
    default:
      break;
  }
  if (!h.fin) return;
  if (message_opcode_ == Opcode::text) {
    if (!utf8_.complete()) {
      fail(CloseCode::invalid_payload, "text message ends inside a UTF-8 sequence");
      return;
    }
    push(Event::Kind::text, std::move(message_));
  } else {
    push(Event::Kind::binary, std::move(message_));
  }
  message_.clear();
}

void Session::on_close_frame() {
  std::uint16_t code = static_cast<std::uint16_t>(CloseCode::no_status);
  std::string_view reason;
  if (control_.size() == 1) {
    fail(CloseCode::protocol_error, "close frame with a 1-byte payload");
    return;
  }
  if (control_.size() >= 2) {
    code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                      static_cast<unsigned char>(control_[1]));
    if (!is_valid_close_code(code)) {
      fail(CloseCode::protocol_error, "close code that may not be sent");
      return;
    }
    reason = std::string_view(control_).substr(2);
    if (!is_valid_utf8(bytes_of(reason))) {
      fail(CloseCode::invalid_payload, "close reason is not valid UTF-8");
      return;
    }
  }
  // In the open state this is the peer's Close: answer with the same code (none if it
  // sent none). In the closing state it is the answer to ours. Either way we are done.
  if (state_ == State::open) {
    queue_close(code == static_cast<std::uint16_t>(CloseCode::no_status) ? 0 : code, {});
  }
  state_ = State::closed;
  push(Event::Kind::close, std::string(reason), code);
}

void Session::fail(CloseCode code, std::string_view reason) {
  const auto c = static_cast<std::uint16_t>(code);
  if (state_ == State::open) queue_close(c, reason);
  state_ = State::closed;
  message_.clear();
  message_.shrink_to_fit();
  push(Event::Kind::error, std::string(reason), c);
}

void Session::push(Event::Kind kind, std::string data, std::uint16_t code) {
  event_bytes_ += data.size();
  events_.push_back(Event{kind, std::move(data), code});
}

bool Session::next_event(Event& out) {
  if (events_.empty()) return false;
  out = std::move(events_.front());
  events_.pop_front();
  event_bytes_ -= out.data.size();
  return true;
}

void Session::queue_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin) {
  if (role_ == Role::client) {
    const auto key = random_mask();
    encode_frame(out_, opcode, payload, fin, &key);
  } else {
    encode_frame(out_, opcode, payload, fin);
  }
}

// code 0: a Close without a status code.
void Session::queue_close(std::uint16_t code, std::string_view reason) {
  std::string payload;
  if (code != 0) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xff));
    // Cut to fit a control frame, and never inside a UTF-8 sequence.
    reason = reason.substr(0, kMaxControlPayload - 2);
    while (!reason.empty() && !is_valid_utf8(bytes_of(reason))) reason.remove_suffix(1);
    payload.append(reason);
  }
  queue_frame(Opcode::close, bytes_of(payload), true);
}

bool Session::send_frame(Opcode opcode, std::span<const std::uint8_t> payload, bool fin) {
  if (state_ != State::open) return false;
  queue_frame(opcode, payload, fin);
  return true;
}

bool Session::send_text(std::string_view text) {
  return send_frame(Opcode::text, bytes_of(text), true);
}

bool Session::send_binary(std::span<const std::uint8_t> data) {
  return send_frame(Opcode::binary, data, true);
}

bool Session::send_ping(std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxControlPayload) payload = payload.first(kMaxControlPayload);
  return send_frame(Opcode::ping, payload, true);
}

bool Session::close(CloseCode code, std::string_view reason) {
  return close(static_cast<std::uint16_t>(code), reason);
}

bool Session::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return false;
  queue_close(is_valid_close_code(code) ? code : static_cast<std::uint16_t>(CloseCode::normal),
              reason);
  state_ = State::closing;
  return true;
}

void Session::consume_output(std::size_t n) noexcept {
  out_sent_ += std::min(n, out_.size() - out_sent_);
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
}

}  // namespace duplex::websocket
