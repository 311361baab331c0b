# The OUI vendor index: a host tool (tools/oui_index.cc) reads the IEEE registries that
# Debian's ieee-data ships, once, at build time, and writes a compact sorted index; an
# assembler file embeds those bytes into the link library with .incbin, so lookups need no
# file I/O and no start-up parse, and the build compiles no giant C++ array.
# Sets DUPLEX_OUI_SOURCES for the link layer.

set(DUPLEX_IEEE_DATA_DIR /usr/share/ieee-data CACHE PATH
    "Where the IEEE registries (oui.csv, mam.csv, oui36.csv, iab.csv) are")
set(_oui_csvs)
foreach(f oui.csv mam.csv oui36.csv iab.csv)
  if(NOT EXISTS ${DUPLEX_IEEE_DATA_DIR}/${f})
    message(FATAL_ERROR "${DUPLEX_IEEE_DATA_DIR}/${f} is missing: the MAC vendor index is "
            "built from Debian's ieee-data; run scripts/setup (or set DUPLEX_IEEE_DATA_DIR)")
  endif()
  list(APPEND _oui_csvs ${DUPLEX_IEEE_DATA_DIR}/${f})
endforeach()
set(_oui_lastupdate)
if(EXISTS ${DUPLEX_IEEE_DATA_DIR}/.lastupdate)
  set(_oui_lastupdate ${DUPLEX_IEEE_DATA_DIR}/.lastupdate)
endif()

enable_language(ASM)

add_executable(duplex_oui_index ${PROJECT_SOURCE_DIR}/tools/oui_index.cc)
target_include_directories(duplex_oui_index PRIVATE ${PROJECT_SOURCE_DIR}/src)
duplex_warnings(duplex_oui_index)

set(_oui_blob ${CMAKE_CURRENT_BINARY_DIR}/link/oui_index.bin)
add_custom_command(
  OUTPUT ${_oui_blob}
  COMMAND duplex_oui_index --out ${_oui_blob}
          $<$<BOOL:${_oui_lastupdate}>:--lastupdate> ${_oui_lastupdate} ${_oui_csvs}
  DEPENDS duplex_oui_index ${_oui_csvs} ${_oui_lastupdate}
  COMMENT "Indexing the IEEE OUI registries from ${DUPLEX_IEEE_DATA_DIR}"
  COMMAND_EXPAND_LISTS VERBATIM)

configure_file(${CMAKE_CURRENT_LIST_DIR}/oui_blob.S.in ${CMAKE_CURRENT_BINARY_DIR}/link/oui_blob.S
               @ONLY)
set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/link/oui_blob.S PROPERTIES
                            OBJECT_DEPENDS ${_oui_blob})
set(DUPLEX_OUI_SOURCES ${CMAKE_CURRENT_BINARY_DIR}/link/oui_blob.S)
