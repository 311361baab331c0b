// Public. Static files under one directory, as an http::Handler.
//
// GET and HEAD; ETag and Last-Modified with 304 (If-None-Match, If-Modified-Since) and 412
// (If-Match, strong comparison; If-Unmodified-Since), in RFC 9110 13.2.2's order; Range
// (one range -> 206 with sendfile, several -> multipart/byteranges, If-Range, 416); MIME
// types by extension; index.html; 301 for a directory without its trailing slash, 404 for a
// file with one; an optional HTML-escaped directory listing.
//
// Confinement: the path is percent-decoded exactly once; an encoded NUL, a backslash or a
// ".." segment is refused (403) before touching the file system, and the file is opened with
// openat2(RESOLVE_BENEATH) relative to the root's descriptor, so that no path and no symlink
// (however deep, and even if the tree changes between two requests) resolves outside the
// root: the kernel checks every component of the walk itself. Where openat2 is missing
// (Linux < 5.6) it falls back to realpath() and a prefix check, which has a race between
// the check and the open that RESOLVE_BENEATH does not.
//
// Small files (up to 16 KiB) are kept in memory once served, per loop thread (at most 256):
// a request without Range is then answered from memory after one fstatat() shows that its
// path still leads to the same file (device and inode) with the same size, mtime and ctime;
// otherwise the file is opened beneath the root again as above.
#pragma once

#include <string>

#include "duplex/proto/http_server.h"

namespace duplex::http {

struct StaticOptions {
  std::string root;      // the directory served
  bool listing = false;  // list directories without index.html (else 403)
};

// Opens the root now (throws duplex::Error naming it if it is not a readable directory).
Handler static_files(const StaticOptions& options);

// The MIME type for a file name's extension, "application/octet-stream" when unknown.
std::string_view mime_type(std::string_view file_name) noexcept;
// <, >, &, " and ' as character references.
std::string html_escape(std::string_view text);

}  // namespace duplex::http
