// Two network namespaces that belong to one test: A (the engine's side) and
// B (the peer's side), joined by a veth pair, with addresses 10.78.0.1/24 (A)
// and 10.78.0.2/24 (B) that exist only inside them. The calling thread moves
// between them (setns) to create sockets on either side; a socket keeps the
// namespace it was created in, so one loop drives both ends.
//
// The namespaces are anonymous (unshare, never `ip netns add`): nothing is
// mounted under /run/netns, and the kernel frees both, with the veth pair,
// when the last of their fds and sockets closes, even if the test crashes or
// is killed. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), `ip` and `nft`.
#pragma once

#include <string>

namespace rstest {

class NetnsPair {
 public:
  NetnsPair() = default;
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  /// Leaves for the thread's original namespace and lets both go.
  ~NetnsPair();

  /// Makes A and B, the veth pair and addresses, and leaves the thread in A.
  /// Returns false with `why` set when this machine cannot (no root, no
  /// `ip` or `nft`, namespaces refused): the caller skips.
  bool create(std::string& why);

  /// Moves the calling thread into A, B or back to where it started.
  bool enter_a();
  bool enter_b();
  bool enter_home();

  /// The faults. Each returns false (with the command's output in `error()`)
  /// if its command failed.
  /// B drops every packet on its veth end, both ways (nft rules in B): the
  /// peer vanishes without a word, its sockets stay open.
  bool drop_in_b();
  bool undrop_in_b();
  /// B's veth end drops every frame at its netdev ingress hook, before the
  /// stack sees it, and A knows B's link address without asking (a
  /// permanent neighbour entry): what A sends leaves its stack as it would
  /// through a NIC, and no receiver ever copies it (zero-copy's own case).
  bool swallow_at_b_ingress();
  /// A's veth end goes down (its connected route with it), then up again.
  bool link_down_in_a();
  bool link_up_in_a();

  const char* address_a() const { return "10.78.0.1"; }
  const char* address_b() const { return "10.78.0.2"; }
  const std::string& error() const { return error_; }

 private:
  /// Runs a shell command from the namespace the thread is in now.
  bool run(const std::string& command);
  bool run_in(int ns_fd, const std::string& command);

  int home_fd_ = -1;
  int a_fd_ = -1;
  int b_fd_ = -1;
  std::string error_;
};

}  // namespace rstest
