# One switch for sanitizer builds: -DDUPLEX_SANITIZE=address (ASan+UBSan) or thread (TSan).
if(DUPLEX_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
elseif(DUPLEX_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(DUPLEX_SANITIZE AND NOT DUPLEX_SANITIZE STREQUAL "OFF")
  message(FATAL_ERROR "DUPLEX_SANITIZE=${DUPLEX_SANITIZE}: use address, thread or OFF")
endif()
