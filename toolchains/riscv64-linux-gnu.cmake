# Cross-compiling for riscv64-linux-gnu with Debian's cross compiler and multiarch libraries
# (liburing-dev:riscv64 where Debian has it). Use:
#   cmake -S . -B build-riscv64 -DCMAKE_TOOLCHAIN_FILE=toolchains/riscv64-linux-gnu.cmake
# Tests run under qemu-user when it is installed; io_uring is unavailable
# there, so they exercise the epoll fallback.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu /usr/lib/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config must read the target's .pc files, not the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/riscv64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} /)
find_program(RINGSOCK_QEMU qemu-riscv64-static)
if(RINGSOCK_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RINGSOCK_QEMU} -L /usr/riscv64-linux-gnu)
endif()
