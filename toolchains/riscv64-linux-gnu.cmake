# Cross-compiling for riscv64 (riscv64-linux-gnu) with Debian's cross compiler.
# riscv64 is not a release architecture of bookworm: there is the cross
# compiler (g++-riscv64-linux-gnu) but no multiarch libraries, so no
# liburing-dev:riscv64 and no libgtest-dev:riscv64. Build the epoll-only
# engine, and give the tests a GoogleTest compiled from /usr/src/googletest
# (scripts/cross.sh riscv64 does both):
#   cmake -S . -B build-cross-riscv64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/riscv64-linux-gnu.cmake \
#     -DRINGSOCK_WITH_URING=OFF -DRINGSOCK_BUILD_BENCH=OFF -DRINGSOCK_BUILD_TESTS=OFF
set(RINGSOCK_CROSS_TRIPLET riscv64-linux-gnu)
set(RINGSOCK_CROSS_PROCESSOR riscv64)
set(RINGSOCK_CROSS_QEMU qemu-riscv64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
