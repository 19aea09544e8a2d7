# Writes OUTPUT with the current git commit (suffixed -dirty for uncommitted changes);
# rewrites it only when the text changes, so an unchanged tree triggers no rebuild.
execute_process(COMMAND git -C ${SOURCE_DIR} describe --always --dirty --abbrev=40 --match=NeVeRmAtCh
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "#pragma once\n#define PFODE_GIT_COMMIT \"${commit}\"\n")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUTPUT} "${text}")
endif()
