# Strict warnings for our own targets (not for third-party code).
function(duplex_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wconversion
                         -Wsign-conversion -Wnon-virtual-dtor -Wold-style-cast)
  if(DUPLEX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
