# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake, riscv64-linux-gnu.cmake), which set
#   RINGSOCK_CROSS_TRIPLET    GNU triplet: the compiler prefix and multiarch directory
#   RINGSOCK_CROSS_PROCESSOR  CMAKE_SYSTEM_PROCESSOR
#   RINGSOCK_CROSS_QEMU       the qemu-user binary that runs the target's programs
# and then include this file.
#
# Debian cross-builds against two places:
#   /usr/<triplet>/          libc, libstdc++, kernel headers of the cross
#                            toolchain (libc6-dev-<arch>-cross, Arch: all)
#   /usr/lib/<triplet>/      multiarch libraries of the target (liburing-dev:arm64,
#   /usr/include/<triplet>/  libgtest-dev:arm64, ...) installed next to the
#                            build machine's own, which live in /usr/lib/x86_64-linux-gnu
# The compiler searches both by itself. CMake is told the target's multiarch
# directory (CMAKE_LIBRARY_ARCHITECTURE), so find_library/find_package look in
# /usr/lib/<triplet> (e.g. /usr/lib/aarch64-linux-gnu/cmake/GTest) and never in
# the build machine's /usr/lib/x86_64-linux-gnu, and pkg-config reads only the
# target's .pc files.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${RINGSOCK_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${RINGSOCK_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${RINGSOCK_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${RINGSOCK_CROSS_TRIPLET})

# /usr/<triplet> first (re-rooted search), then the normal prefixes (/usr), in
# which CMAKE_LIBRARY_ARCHITECTURE picks the target's multiarch directory.
# Programs (pkg-config, qemu) are the build machine's.
set(CMAKE_FIND_ROOT_PATH /usr/${RINGSOCK_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# /usr/local holds what was built for the build machine (a hand-installed
# benchmark or googletest, say): never the target's.
set(CMAKE_SYSTEM_IGNORE_PREFIX_PATH /usr/local)

# pkg-config reads the target's .pc files only (liburing.pc of liburing-dev:<arch>).
# Where the target has no multiarch libraries (riscv64 on bookworm) the
# directory does not exist and liburing is, correctly, not found: build with
# -DRINGSOCK_WITH_URING=OFF.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${RINGSOCK_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
unset(ENV{PKG_CONFIG_PATH})
unset(ENV{PKG_CONFIG_SYSROOT_DIR})

# ctest and gtest_discover_tests run the target's programs under qemu-user
# (qemu-user-static). -L makes qemu load the cross toolchain's dynamic loader,
# /usr/<triplet>/lib/ld-linux-*.so, and LD_LIBRARY_PATH makes that loader take
# libc, libstdc++ and libgcc_s from the same place: loader and libc must come
# from the same glibc build. Without it the loader (libc6-<arch>-cross,
# 2.36-8cross1) would take, through /etc/ld.so.cache, the multiarch
# /lib/<triplet>/libc.so.6 (libc6:<arch>, 2.36-9+deb12uN) that liburing2:<arch>
# pulls in, and the pair misbehaves: under qemu a forked child spins forever
# and threads hang. Multiarch libraries that only exist there (liburing.so.2)
# are still found in /usr/lib/<triplet> through the cache.
# Under qemu-user io_uring_setup fails with ENOSYS: the engine runs on epoll
# and the io_uring-parametrized tests skip.
find_program(RINGSOCK_CROSS_EMULATOR ${RINGSOCK_CROSS_QEMU})
if(RINGSOCK_CROSS_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RINGSOCK_CROSS_EMULATOR}
      -L /usr/${RINGSOCK_CROSS_TRIPLET} -E LD_LIBRARY_PATH=/usr/${RINGSOCK_CROSS_TRIPLET}/lib)
endif()
