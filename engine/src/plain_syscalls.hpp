// The engine's per-operation socket calls (the epoll backend's, and the
// core's direct datagram sends) as plain system calls, through syscall(2).
// glibc makes recv, send, accept4, connect and epoll_wait cancellation
// points: in a process with more than one thread every call pays two atomic
// updates of the thread's cancel state around the system call (perf, epoll UDP
// sink server: 4.5% of its time). The engine never uses thread cancellation,
// and syscall(2) is not a cancellation point. Same kernel entry points as
// glibc uses (recv is recvfrom, send is sendto, epoll_wait is epoll_pwait),
// which every target architecture has: aarch64 and riscv64 have no
// send/recv/epoll_wait numbers. Results and errno as the libc calls.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

namespace ringsock::detail::sys {

inline ssize_t recv(int fd, void* data, size_t length, int flags) noexcept {
  return syscall(SYS_recvfrom, long(fd), data, length, long(flags), nullptr, nullptr);
}

inline ssize_t send(int fd, const void* data, size_t length, int flags) noexcept {
  return syscall(SYS_sendto, long(fd), data, length, long(flags), nullptr, 0L);
}

inline ssize_t recvfrom(int fd, void* data, size_t length, int flags, sockaddr* from,
                        socklen_t* from_length) noexcept {
  return syscall(SYS_recvfrom, long(fd), data, length, long(flags), from, from_length);
}

inline ssize_t recvmsg(int fd, msghdr* header, int flags) noexcept {
  return syscall(SYS_recvmsg, long(fd), header, long(flags));
}

inline ssize_t sendmsg(int fd, const msghdr* header, int flags) noexcept {
  return syscall(SYS_sendmsg, long(fd), header, long(flags));
}

inline int accept4(int fd, sockaddr* peer, socklen_t* peer_length, int flags) noexcept {
  return int(syscall(SYS_accept4, long(fd), peer, peer_length, long(flags)));
}

inline int connect(int fd, const sockaddr* peer, socklen_t peer_length) noexcept {
  return int(syscall(SYS_connect, long(fd), peer, long(peer_length)));
}

// No signal mask: the kernel ignores the size then; it is the kernel's
// sigset size (8 bytes) for form's sake.
inline int epoll_wait(int epoll_fd, epoll_event* events, int max_events, int timeout_ms) noexcept {
  return int(syscall(SYS_epoll_pwait, long(epoll_fd), events, long(max_events), long(timeout_ms),
                     nullptr, long(_NSIG / 8)));
}

}  // namespace ringsock::detail::sys
