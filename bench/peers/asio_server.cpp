// peer-asio-uring / peer-asio-epoll: standalone Asio, the way its examples
// write an echo server. One io_context, run on one thread; --threads N runs
// N of them, one per thread with its own sockets (Asio's io_context-per-core
// pattern), each stopped by waiting on peer_run's stop eventfd. Streams: a session
// per connection with a 64 KiB buffer, async_read_some then (echo) async_write
// of what was read, then read again. UDP: async_receive_from, then (echo)
// async_send_to the sender, then receive again.
//
// The same source is built twice: with ASIO_HAS_IO_URING + ASIO_DISABLE_EPOLL
// (Asio's io_uring backend is then the default for sockets) and with Asio's
// defaults (the epoll reactor).
#include <array>
#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>

#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include <asio.hpp>

#include "peer_common.h"

namespace {

peer_config config;
thread_local peer_counters counters;  // each io_context its own

#if defined(ASIO_HAS_IO_URING_AS_DEFAULT)
constexpr const char* kBackend = "io_uring";
#else
constexpr const char* kBackend = "epoll";
#endif

template <typename Socket>
class Session : public std::enable_shared_from_this<Session<Socket>> {
 public:
  explicit Session(Socket socket) : socket_(std::move(socket)) {}
  void start() { read(); }

 private:
  void read() {
    auto self = this->shared_from_this();
    socket_.async_read_some(asio::buffer(buffer_),
                            [self](const std::error_code& error, std::size_t n) {
                              if (error) return;  // EOF, reset: the session ends here
                              ++counters.messages_in;
                              counters.bytes_in += n;
                              if (config.mode == PEER_ECHO) {
                                self->write(n);
                              } else {
                                self->read();
                              }
                            });
  }

  void write(std::size_t n) {
    auto self = this->shared_from_this();
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self](const std::error_code& error, std::size_t written) {
                        counters.bytes_out += written;
                        if (!error) self->read();
                      });
  }

  Socket socket_;
  std::array<char, PEER_BUFFER_SIZE> buffer_;
};

template <typename Protocol>
class Server {
 public:
  Server(asio::io_context& io, const peer_endpoint& endpoint, const Protocol& protocol)
      : endpoint_(endpoint), acceptor_(io), pause_(io) {
    acceptor_.assign(protocol, endpoint.fd);
  }
  void start() { accept(); }

 private:
  void accept() {
    acceptor_.async_accept([this](const std::error_code& error, typename Protocol::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        ++counters.connections;
        peer_tune_accepted(&endpoint_, socket.native_handle());
        std::make_shared<Session<typename Protocol::socket>>(std::move(socket))->start();
      } else if (peer_accept_should_pause(error.value())) {
        // Out of fds: accepting again at once would spin while that lasts.
        pause_.expires_after(std::chrono::milliseconds(PEER_ACCEPT_PAUSE_MS));
        pause_.async_wait([this](const std::error_code& e) {
          if (!e) accept();
        });
        return;
      }
      accept();
    });
  }

  const peer_endpoint& endpoint_;
  typename Protocol::acceptor acceptor_;
  asio::steady_timer pause_;
};

class DatagramServer {
 public:
  DatagramServer(asio::io_context& io, const peer_endpoint& endpoint)
      : socket_(io) {
    socket_.assign(endpoint.addr.ss_family == AF_INET6 ? asio::ip::udp::v6() : asio::ip::udp::v4(),
                   endpoint.fd);
  }
  void start() { receive(); }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), sender_,
                               [this](const std::error_code& error, std::size_t n) {
                                 if (error == asio::error::operation_aborted) return;
                                 if (error) {  // e.g. an ICMP error queued on the socket
                                   receive();
                                   return;
                                 }
                                 ++counters.messages_in;
                                 counters.bytes_in += n;
                                 if (config.mode == PEER_ECHO) {
                                   reply(n);
                                 } else {
                                   receive();
                                 }
                               });
  }

  void reply(std::size_t n) {
    socket_.async_send_to(asio::buffer(buffer_.data(), n), sender_,
                          [this](const std::error_code& error, std::size_t sent) {
                            if (error == asio::error::operation_aborted) return;
                            if (!error) counters.bytes_out += sent;
                            receive();
                          });
  }

  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint sender_;
  std::array<char, PEER_BUFFER_SIZE> buffer_;
};

void serve(peer_thread* t) {
  try {
    asio::io_context io(1);  // run by this thread only
    // The stop eventfd is shared by every loop: a dup of its own to own, and
    // waited on for readability, never read.
    int stop_fd = ::fcntl(t->stop_fd, F_DUPFD_CLOEXEC, 0);
    if (stop_fd < 0) {
      std::perror("asio peer: dup of the stop eventfd");
      std::exit(1);
    }
    asio::posix::stream_descriptor stop(io, stop_fd);
    stop.async_wait(asio::posix::stream_descriptor::wait_read,
                    [&io](const std::error_code&) { io.stop(); });

    std::vector<std::unique_ptr<Server<asio::ip::tcp>>> tcp;
    std::vector<std::unique_ptr<Server<asio::local::stream_protocol>>> local;
    std::vector<std::unique_ptr<DatagramServer>> udp;
    for (int i = 0; i < config.count; ++i) {
      const peer_endpoint& ep = t->endpoints[i];
      switch (ep.transport) {
        case PEER_TCP:
          tcp.push_back(std::make_unique<Server<asio::ip::tcp>>(
              io, ep, ep.addr.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4()));
          tcp.back()->start();
          break;
        case PEER_UNIX:
          local.push_back(std::make_unique<Server<asio::local::stream_protocol>>(
              io, ep, asio::local::stream_protocol()));
          local.back()->start();
          break;
        case PEER_UDP:
          udp.push_back(std::make_unique<DatagramServer>(io, ep));
          udp.back()->start();
          break;
      }
    }
    if (std::getenv("PEER_VERBOSE") != nullptr) std::fprintf(stderr, "asio backend: %s\n", kBackend);
    peer_loop_ready();
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio peer: %s\n", e.what());
    std::exit(1);
  }
  t->counters = counters;
}

}  // namespace

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  return peer_run(&config, 0, serve);
}
