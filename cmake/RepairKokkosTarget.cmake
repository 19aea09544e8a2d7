# Debian's Trilinos packaging of Kokkos 3.4 exports Kokkos::kokkos with an include directory
# that does not hold the headers (they live in <prefix>/include/trilinos). Repair the target
# only when the exported directory lacks Kokkos_Core.hpp, so other Kokkos installs are untouched.
if(TARGET Kokkos::kokkos)
  get_target_property(_pfode_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  set(_pfode_has_headers OFF)
  foreach(_dir IN LISTS _pfode_kokkos_inc)
    if(_dir MATCHES "\\$<" OR EXISTS "${_dir}/Kokkos_Core.hpp")
      set(_pfode_has_headers ON)
    endif()
  endforeach()
  if(NOT _pfode_has_headers)
    find_path(PFODE_KOKKOS_INCLUDE_DIR Kokkos_Core.hpp
              HINTS ${_pfode_kokkos_inc} PATH_SUFFIXES trilinos)
    if(NOT PFODE_KOKKOS_INCLUDE_DIR)
      message(FATAL_ERROR "Kokkos::kokkos names no directory with Kokkos_Core.hpp (${_pfode_kokkos_inc})")
    endif()
    message(STATUS "pfode: repaired Kokkos::kokkos include directory -> ${PFODE_KOKKOS_INCLUDE_DIR}")
    set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${PFODE_KOKKOS_INCLUDE_DIR}")
  endif()
endif()
