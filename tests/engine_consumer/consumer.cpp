// A C++20 program built against an installed ringsock::engine: one nop round
// trip, then one datagram echoed over loopback UDP. Prints "...: OK" on success.
#include <ringsock/endpoint.hpp>
#include <ringsock/loop.hpp>
#include <ringsock/socket.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

struct Echo {
  int server_fd = -1;
  char request[64] = {};
  char reply[64] = {};
  ringsock::Endpoint client;  // the request's sender, where the reply goes
  ringsock::Operation receive, answer, send, reply_receive, nop;
  int nops = 0;
  int replied_bytes = -1;
};

Echo echo;

void nop_done(ringsock::Loop&, ringsock::Operation&, const ringsock::Completion& c) {
  if (c.result == 0) ++echo.nops;
}

void answered(ringsock::Loop&, ringsock::Operation&, const ringsock::Completion&) {}

// The server's side: send the datagram back to whoever sent it.
void received(ringsock::Loop& loop, ringsock::Operation&, const ringsock::Completion& c) {
  if (c.result <= 0) return;
  loop.sendto(echo.answer, echo.server_fd, echo.request, size_t(c.result), &echo.client, answered);
}

void reply_received(ringsock::Loop&, ringsock::Operation&, const ringsock::Completion& c) {
  echo.replied_bytes = c.result;
}

void sent(ringsock::Loop&, ringsock::Operation&, const ringsock::Completion&) {}

const char* backend_name(ringsock::BackendKind kind) {
  return kind == ringsock::BackendKind::uring ? "io_uring" : "epoll";
}

}  // namespace

int main() {
  ringsock::Loop loop;
  if (int rc = loop.init(); rc < 0) {
    std::fprintf(stderr, "init: %s (%s)\n", std::strerror(-rc), loop.backend_reason());
    return 1;
  }
  ringsock::Endpoint any, server;
  if (ringsock::parse_endpoint("udp://127.0.0.1:0", any).error != 0) return 1;
  echo.server_fd = ringsock::bind_datagram(any);
  if (echo.server_fd < 0 ||
      ringsock::local_endpoint(echo.server_fd, ringsock::Transport::udp, server) < 0) {
    std::fprintf(stderr, "cannot bind udp://127.0.0.1:0\n");
    return 1;
  }
  int client_fd = ringsock::connect_datagram(server);
  if (client_fd < 0) return 1;

  constexpr std::string_view kMessage = "hello from the installed engine";
  int rc = loop.nop(echo.nop, nop_done);
  if (rc == 0) {
    rc = loop.recvfrom(echo.receive, echo.server_fd, echo.request, sizeof echo.request,
                       &echo.client, received);
  }
  if (rc == 0) {
    rc = loop.recv(echo.reply_receive, client_fd, echo.reply, sizeof echo.reply, reply_received);
  }
  if (rc == 0) rc = loop.send(echo.send, client_fd, kMessage.data(), kMessage.size(), sent);
  if (rc == 0) rc = loop.run(ringsock::RunMode::until_done);

  bool ok = rc >= 0 && echo.nops == 1 && echo.replied_bytes == int(kMessage.size()) &&
            std::string_view(echo.reply, kMessage.size()) == kMessage;
  std::printf("ringsock engine, backend %s: nop and a UDP echo: %s\n", backend_name(loop.backend()),
              ok ? "OK" : "FAILED");
  ::close(client_fd);
  ::close(echo.server_fd);
  loop.deinit();
  return ok ? 0 : 1;
}
