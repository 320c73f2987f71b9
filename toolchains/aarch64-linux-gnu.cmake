# Cross-compiling for arm64 (aarch64-linux-gnu) with Debian's cross compiler and
# multiarch libraries. scripts/cross-deps.sh arm64 installs them
# (crossbuild-essential-arm64, liburing-dev:arm64, libgtest-dev:arm64,
# qemu-user-static). Use:
#   cmake -S . -B build-cross-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake -DRINGSOCK_BUILD_BENCH=OFF
# or scripts/cross.sh arm64, which also runs the tests under qemu-aarch64-static.
set(RINGSOCK_CROSS_TRIPLET aarch64-linux-gnu)
set(RINGSOCK_CROSS_PROCESSOR aarch64)
set(RINGSOCK_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
