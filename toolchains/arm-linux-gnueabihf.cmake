# Cross-compiling for armhf (arm-linux-gnueabihf: 32-bit ARMv7, hard float) with
# Debian's cross compiler and multiarch libraries. scripts/cross-deps.sh armhf
# installs them (crossbuild-essential-armhf, liburing-dev:armhf,
# libgtest-dev:armhf, qemu-user-static). Use:
#   cmake -S . -B build-cross-armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake -DRINGSOCK_BUILD_BENCH=OFF
# or scripts/cross.sh armhf, which also runs the tests under qemu-arm-static.
set(RINGSOCK_CROSS_TRIPLET arm-linux-gnueabihf)
set(RINGSOCK_CROSS_PROCESSOR arm)
set(RINGSOCK_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
