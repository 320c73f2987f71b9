# `cpack -G DEB` (from the build directory): the install components as Debian
# packages, each with the dependencies dpkg-shlibdeps finds (dpkg-dev):
#   libringsockN    runtime:     libringsock.so.N (N = the major version, the SONAME)
#   libringsock-dev development: ringsock.h, ringsock/*.hpp, the static libraries,
#                                the .so link, pkg-config and CMake files, ringsock(3)
#   ringsock        command:     bin/ringsock and ringsock(1)
# They install under /usr. tests/packaging/deb_test.sh builds and installs them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ringsock)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR ringsock)
set(CPACK_PACKAGE_CONTACT "ringsock maintainers <ringsock@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "zero-allocation io_uring socket engine with an epoll fallback")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
if(RINGSOCK_BUILD_TOOLS)
  list(APPEND CPACK_COMPONENTS_ALL command)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version_arch.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # -dev depends on the exact runtime

set(ringsock_runtime_package libringsock${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${ringsock_runtime_package})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "ringsock: zero-allocation io_uring socket engine (C ABI, shared library)")
# A shlibs file for packages that link libringsock.so, and ldconfig triggers.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_GENERATE_SHLIBS ON)

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libringsock-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "ringsock: zero-allocation io_uring socket engine (development files: C ABI and C++ engine)")
set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS runtime)
# The static libraries link liburing; the CMake package finds it with pkg-config.
if(RINGSOCK_WITH_URING)
  set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "liburing-dev (>= 2.3), pkg-config")
else()
  set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "pkg-config")
endif()

set(CPACK_DEBIAN_COMMAND_PACKAGE_NAME ringsock)
set(CPACK_DEBIAN_COMMAND_PACKAGE_SECTION net)
set(CPACK_DEBIAN_COMMAND_DESCRIPTION
    "ringsock: load generator and echo/sink server for raw sockets on io_uring or epoll")

include(CPack)
