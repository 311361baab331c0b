// The chunked transfer coding (RFC 9112 7.1), decoded as bytes arrive.
//
// chunked-body = *chunk last-chunk trailer-section CRLF
// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// Strict where request smuggling lives: hex digits only (no "0x", no sign, no whitespace
// before the size), at most 16 digits (no overflow), CRLF exactly where the grammar puts it.
#include <algorithm>

#include "duplex/proto/http_parser.h"

namespace duplex::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::size_t kMaxExtensionBytes = 1024;

}  // namespace

void ChunkedDecoder::reset() noexcept {
  state_ = State::kSize;
  chunk_size_ = remaining_ = total_ = 0;
  size_digits_ = 0;
  extension_bytes_ = trailer_bytes_ = 0;
  line_.clear();
  failure_ = {};
}

ChunkedDecoder::Result ChunkedDecoder::fail(int status, const char* reason) noexcept {
  failure_ = {status, reason};
  return Result::kError;
}

ChunkedDecoder::Result ChunkedDecoder::finish_trailer_line(
    std::vector<std::pair<std::string, std::string>>& trailers) {
  // A trailer field follows the rules of a header field: token ':' OWS value OWS.
  std::size_t i = 0;
  while (i < line_.size() && is_token_char(static_cast<unsigned char>(line_[i]))) ++i;
  if (i == 0 || i >= line_.size() || line_[i] != ':') return fail(400, "malformed trailer field");
  std::string_view value = std::string_view(line_).substr(i + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(400, "control character in a trailer");
  }
  if (trailers.size() >= limits_.max_headers) return fail(431, "too many trailer fields");
  trailers.emplace_back(line_.substr(0, i), std::string(value));
  line_.clear();
  return Result::kIncomplete;
}

ChunkedDecoder::Result ChunkedDecoder::decode(
    std::string_view in, std::size_t* consumed, std::string& body,
    std::vector<std::pair<std::string, std::string>>& trailers) {
  std::size_t i = 0;
  const auto done = [&](Result r) {
    *consumed = i;
    return r;
  };
  while (i < in.size()) {
    const char c = in[i];
    switch (state_) {
      case State::kSize: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (++size_digits_ > 16) return done(fail(400, "chunk size overflows"));
          chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          return done(fail(400, "chunk size is not hexadecimal"));
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;  // BWS ";" ext: kept, not interpreted
        } else {
          return done(fail(400, "chunk size is not hexadecimal"));
        }
        break;
      }
      case State::kExtension: {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
          return done(fail(400, "control character in a chunk extension"));
        } else if (++extension_bytes_ > kMaxExtensionBytes) {
          return done(fail(400, "chunk extension too long"));
        }
        ++i;
        break;
      }
      case State::kSizeLf: {
        if (c != '\n') return done(fail(400, "chunk size line without CRLF"));
        ++i;
        extension_bytes_ = 0;
        size_digits_ = 0;
        if (chunk_size_ == 0) {
          state_ = State::kTrailerLine;
          break;
        }
        if (chunk_size_ > limits_.max_body || total_ + chunk_size_ > limits_.max_body)
          return done(fail(413, "chunked body larger than the limit"));
        remaining_ = chunk_size_;
        total_ += chunk_size_;
        state_ = State::kData;
        break;
      }
      case State::kData: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
        body.append(in.data() + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return done(fail(400, "chunk data not followed by CRLF"));
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return done(fail(400, "chunk data not followed by CRLF"));
        state_ = State::kSize;
        chunk_size_ = 0;
        ++i;
        break;
      case State::kTrailerLine: {
        ++i;
        if (++trailer_bytes_ > limits_.max_header_bytes)
          return done(fail(431, "trailer section too large"));
        if (c == '\n') {
          if (line_.empty() || line_.back() != '\r') return done(fail(400, "bare LF in trailers"));
          line_.pop_back();
          if (line_.empty()) {
            state_ = State::kDone;
            return done(Result::kComplete);
          }
          if (line_.front() == ' ' || line_.front() == '\t')
            return done(fail(400, "obs-fold in trailers"));
          if (finish_trailer_line(trailers) == Result::kError) return done(Result::kError);
        } else {
          if (!line_.empty() && line_.back() == '\r') return done(fail(400, "bare CR in trailers"));
          line_.push_back(c);
        }
        break;
      }
      case State::kDone:
        return done(Result::kComplete);
    }
  }
  return done(state_ == State::kDone ? Result::kComplete : Result::kIncomplete);
}

}  // namespace duplex::http
