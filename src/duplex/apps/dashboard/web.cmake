# The dashboard's static files: a host tool (tools/embed_web.cc) turns every file under
# web/ into one generated C++ file (path, MIME type, bytes, SHA-256 ETag) that the dashboard
# library compiles, so `duplex serve` needs no files next to it. The command depends on
# each file, and the glob is re-checked at build time, so editing, adding or removing a
# file under web/ rebuilds the table. Sets DUPLEX_WEB_SOURCES for the dashboard library.

set(DUPLEX_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
file(GLOB_RECURSE _web_files CONFIGURE_DEPENDS ${DUPLEX_WEB_DIR}/*)
list(SORT _web_files)

add_executable(duplex_embed_web ${PROJECT_SOURCE_DIR}/tools/embed_web.cc)
target_link_libraries(duplex_embed_web PRIVATE duplex::proto OpenSSL::Crypto)
duplex_warnings(duplex_embed_web)

set(_web_table ${CMAKE_CURRENT_BINARY_DIR}/apps/dashboard/web_assets_data.cc)
add_custom_command(
  OUTPUT ${_web_table}
  COMMAND duplex_embed_web --out ${_web_table} --root ${DUPLEX_WEB_DIR} ${_web_files}
  DEPENDS duplex_embed_web ${_web_files}
  COMMENT "Embedding the dashboard (web/)"
  VERBATIM)
set(DUPLEX_WEB_SOURCES ${_web_table})
