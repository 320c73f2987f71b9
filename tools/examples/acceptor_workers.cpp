// The acceptor/worker pattern on ringsock: one loop accepts connections and
// hands each one's fd to a worker loop on another thread, which serves it
// (an echo). The hand-off is Loop::post_to: a caller-owned operation whose
// callback runs on the worker's loop with the fd as its value, by
// IORING_OP_MSG_RING when both loops run on io_uring, else through the
// worker's lock-free post box and eventfd. Nothing is allocated after start.
//
//   acceptor_workers [URL] [WORKERS]    (default tcp://127.0.0.1:0, 2 workers)
//
// It prints "listening URL" once it serves, and stops on SIGINT or SIGTERM:
// the acceptor stops accepting, each worker is told by a post to close its
// connections and end, then it prints how many connections each served.
// RINGSOCK_BACKEND=uring|epoll picks the backend of every loop.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "ringsock/loop.hpp"
#include "ringsock/socket.hpp"

using namespace ringsock;

namespace {

constexpr uint32_t kConnectionsPerWorker = 1024;
constexpr uint32_t kHandoffs = 256;  // connections on their way to a worker at once
constexpr size_t kBufferBytes = 4096;

struct Worker;

// One connection a worker serves: receive into its buffer, send it all back, again.
struct Connection {
  Worker* worker = nullptr;
  int fd = -1;
  uint8_t buffer[kBufferBytes];
  Operation io;  // the receive, then the send: one at a time
  Operation close;
};

struct Worker {
  Loop loop;
  std::thread thread;
  std::vector<Connection> connections{kConnectionsPerWorker};
  std::vector<Connection*> free;
  Operation stop_op;
  bool stopping = false;
  uint64_t served = 0;

  void serve(int fd);
  void end(Connection& c);
};

// A connection on its way: the acceptor fills it and posts it to a worker,
// which posts it back once the fd is its own.
struct Handoff {
  Operation op;
  struct Acceptor* home = nullptr;
  Worker* worker = nullptr;
};

struct Acceptor {
  Loop loop;
  int listener = -1;
  Operation accept_op;
  std::vector<Handoff> handoffs{kHandoffs};
  std::vector<Handoff*> free;
  std::vector<std::unique_ptr<Worker>>* workers = nullptr;
  size_t next = 0;
  uint64_t dropped = 0;  // no handoff record free: closed at once
};

std::atomic<bool> g_stop{false};
Loop* g_acceptor_loop = nullptr;

void on_signal(int) {
  g_stop.store(true);
  g_acceptor_loop->wake();  // async-signal-safe: an eventfd write
}

// ---- the worker's side ----------------------------------------------------

void on_received(Loop& loop, Operation& op, const Completion& c);

void on_sent(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Connection*>(op.user_data);
  if (c.result < 0 || conn.worker->stopping) return conn.worker->end(conn);
  if (loop.recv(conn.io, conn.fd, conn.buffer, sizeof conn.buffer, on_received, &conn) < 0) {
    conn.worker->end(conn);
  }
}

void on_received(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Connection*>(op.user_data);
  // 0: the client is done; < 0: an error, or the cancel of a stopping worker.
  if (c.result <= 0 || conn.worker->stopping) return conn.worker->end(conn);
  if (loop.send(conn.io, conn.fd, conn.buffer, size_t(c.result), on_sent, &conn) < 0) {
    conn.worker->end(conn);
  }
}

void on_closed(Loop&, Operation& op, const Completion&) {
  auto& conn = *static_cast<Connection*>(op.user_data);
  conn.fd = -1;
  conn.worker->free.push_back(&conn);  // reserved at start: no allocation
}

void Worker::serve(int fd) {
  if (stopping || free.empty()) {
    ::close(fd);
    return;
  }
  Connection& conn = *free.back();
  free.pop_back();
  conn.fd = fd;
  ++served;
  if (loop.recv(conn.io, fd, conn.buffer, sizeof conn.buffer, on_received, &conn) < 0) end(conn);
}

// Cancel-safe: the close waits for the connection's receive or send to end.
void Worker::end(Connection& conn) {
  if (conn.close.in_flight() || conn.fd < 0) return;
  loop.close(conn.close, conn.fd, on_closed, &conn);
}

void on_handoff_back(Loop&, Operation& op, const Completion&) {
  auto& h = *static_cast<Handoff*>(op.user_data);
  h.home->free.push_back(&h);
}

// On the worker's thread: the fd is the worker's now. Then the record goes
// home. -ECANCELED: the worker's loop is closing and refuses everything: the
// fd is closed, and the record need not go back (the acceptor is done).
void on_handoff(Loop& loop, Operation& op, const Completion& c) {
  auto& h = *static_cast<Handoff*>(op.user_data);
  int fd = int(op.post_value());
  if (c.result < 0) {
    ::close(fd);
    return;
  }
  h.worker->serve(fd);
  loop.post_to(h.home->loop, op, 0, on_handoff_back, &h);
}

void on_stop(Loop& loop, Operation& op, const Completion&) {
  auto& w = *static_cast<Worker*>(op.user_data);
  w.stopping = true;
  for (Connection& conn : w.connections) {
    if (conn.fd >= 0) w.end(conn);
  }
  (void)loop;
}

void run_worker(Worker& w, std::atomic<int>& ready) {
  int rc = w.loop.init();
  ready.store(rc < 0 ? rc : 0);
  if (rc < 0) return;
  for (Connection& conn : w.connections) {
    conn.worker = &w;
    w.free.push_back(&conn);
  }
  // Waits for posts: RunMode::once, until told to stop and every connection is closed.
  while (!w.stopping || w.loop.active() > 0) {
    if (w.loop.run(RunMode::once) < 0) break;
  }
  w.loop.deinit();
}

// ---- the acceptor's side --------------------------------------------------

void on_accept(Loop& loop, Operation& op, const Completion& c) {
  auto& a = *static_cast<Acceptor*>(op.user_data);
  if (c.result < 0) return;  // cancelled at the stop (or an error: this example stops accepting)
  int fd = c.result;
  if (a.free.empty()) {
    ++a.dropped;
    ::close(fd);
    return;
  }
  Worker& w = *(*a.workers)[a.next];
  a.next = (a.next + 1) % a.workers->size();
  Handoff& h = *a.free.back();
  a.free.pop_back();
  h.worker = &w;
  if (loop.post_to(w.loop, h.op, uint64_t(fd), on_handoff, &h) < 0) {
    a.free.push_back(&h);
    ::close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = argc > 1 ? argv[1] : "tcp://127.0.0.1:0";
  int worker_count = argc > 2 ? atoi(argv[2]) : 2;
  if (worker_count < 1 || worker_count > 64) {
    fprintf(stderr, "usage: %s [URL] [WORKERS 1..64]\n", argv[0]);
    return 2;
  }
  Endpoint endpoint;
  if (ParseResult parsed = parse_endpoint(url, endpoint); parsed.error != 0) {
    fprintf(stderr, "bad URL %s: %s\n", url, parsed.message);
    return 2;
  }

  // Workers first: their loops run before the first connection comes.
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < worker_count; ++i) {
    workers.push_back(std::make_unique<Worker>());
    Worker& w = *workers.back();
    std::atomic<int> ready{1};
    w.thread = std::thread(run_worker, std::ref(w), std::ref(ready));
    while (ready.load() == 1) std::this_thread::yield();
    if (ready.load() < 0) {
      fprintf(stderr, "worker %d: %s\n", i, w.loop.backend_reason());
      return 1;
    }
  }

  Acceptor a;
  a.workers = &workers;
  for (Handoff& h : a.handoffs) {
    h.home = &a;
    a.free.push_back(&h);
  }
  int rc = a.loop.init();
  a.listener = rc < 0 ? rc : listen_on(endpoint);
  Endpoint bound;
  if (a.listener < 0 || local_endpoint(a.listener, endpoint.transport, bound) < 0 ||
      a.loop.accept_multishot(a.accept_op, a.listener, on_accept, &a) < 0) {
    fprintf(stderr, "cannot serve %s: %s\n", url, strerror(-a.listener));
    return 1;
  }
  g_acceptor_loop = &a.loop;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  char text[kEndpointUrlMax];
  format_endpoint(bound, text, sizeof text);
  printf("listening %s, %d workers, backend %s\n", text, worker_count,
         a.loop.backend() == BackendKind::uring ? "io_uring" : "epoll");
  fflush(stdout);

  while (!g_stop.load()) {
    if (a.loop.run(RunMode::once) < 0) break;
  }
  // Stop: no more connections, then each worker closes its own and ends.
  a.loop.cancel(a.accept_op);
  while (a.accept_op.in_flight()) a.loop.run(RunMode::once);
  ::close(a.listener);
  for (auto& w : workers) {
    w->loop.post(w->stop_op, 0, on_stop, w.get());  // from any thread
  }
  for (auto& w : workers) w->thread.join();
  // Records still on their way back are called back here with -ECANCELED.
  a.loop.deinit();
  for (int i = 0; i < worker_count; ++i) {
    printf("worker %d served %llu connections\n", i,
           (unsigned long long)workers[size_t(i)]->served);
  }
  printf("dropped %llu\n", (unsigned long long)a.dropped);
  return 0;
}
