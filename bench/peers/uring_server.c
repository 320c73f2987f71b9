/* peer-uring: a minimal hand-written liburing server, the floor the engine is
 * measured against. What a competent one does and nothing more:
 *
 * - one ring, set up with SINGLE_ISSUER | DEFER_TASKRUN where the kernel has
 *   them (else COOP_TASKRUN, else none), one io_uring_submit_and_wait per turn;
 * - streams: multishot accept; multishot receive into a provided buffer ring
 *   (one buffer group); echo sends the received buffer itself, one send in
 *   flight per connection and the rest queued in order, a short send
 *   continued from where it stopped; a buffer goes back to the ring when its
 *   bytes have gone out (sink: at once), all of a turn's returns in one
 *   advance; a receive that ran out of buffers is armed again once some came
 *   back;
 * - datagrams: multishot recvmsg into a second buffer ring (buffers of 64 KiB
 *   and the header, so no datagram is cut), each echoed with sendmsg to its
 *   sender from the buffer it came in, which goes back when the send is done;
 * - stopping: a poll on peer_run's stop eventfd;
 * - --threads N: N such rings, one per thread, each with its own sockets.
 *
 * Arguments, sockets and the counters line are bench/peers/peer_common.c's,
 * as for every peer. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_common.h"

enum {
  RING_ENTRIES = 256,
  CQ_ENTRIES = 4 * RING_ENTRIES,
  BUF_COUNT = 1024, /* streams; a power of two: the buffer ring's size */
  BUF_SIZE = 4096,
  DGRAM_BUF_COUNT = 128, /* datagrams */
  DGRAM_BUF_SIZE = 65536 + 256, /* the largest datagram, its sender and the header */
  NO_BUF = 0xFFFF,
};

/* What a completion is for: the low 8 bits of user_data; the rest is the fd
 * (streams), the endpoint index (accept) or the slot index (datagrams). */
enum kind { K_ACCEPT, K_ACCEPT_PAUSE, K_RECV, K_SEND, K_DGRAM_RECV, K_DGRAM_SEND, K_STOP };

static uint64_t tag(enum kind kind, uint64_t index) { return index << 8 | (uint64_t)kind; }

struct conn {
  uint8_t recv_armed;
  uint8_t sending;
  uint8_t ended;     /* no more input: close once the queue has gone out */
  uint8_t starved;   /* on the list of receives waiting for buffers */
  uint16_t head;     /* buffers waiting to go out, in order (NO_BUF: none) */
  uint16_t tail;
  uint32_t head_sent; /* bytes of the head buffer already sent */
  int next_starved;
};

/* A provided-buffer ring and its buffers; buffers given back during a turn
 * are published to the kernel at its end, in one advance. */
struct pool {
  struct io_uring_buf_ring* ring;
  char* memory;
  unsigned count, size;
  uint16_t group;
  int returned;
};

struct dgram_socket {
  int fd;
  int starved; /* its receive ran out of buffers: armed again when some come back */
};

/* A datagram's echo in flight: the buffer it came in (same index). */
struct dgram_send {
  struct msghdr msg;
  struct iovec iov;
};

static struct peer_config config;
static const struct __kernel_timespec pause_time = {0, PEER_ACCEPT_PAUSE_MS * 1000000LL};
/* One ring's state: each thread has its own. */
static _Thread_local const struct peer_endpoint* endpoints;
static _Thread_local struct peer_counters counters;
static _Thread_local struct io_uring ring;
static _Thread_local struct pool stream_pool = {NULL, NULL, BUF_COUNT, BUF_SIZE, 0, 0};
static _Thread_local struct pool dgram_pool = {NULL, NULL, DGRAM_BUF_COUNT, DGRAM_BUF_SIZE, 1, 0};
static _Thread_local uint16_t next_buf[BUF_COUNT];
static _Thread_local uint32_t buf_len[BUF_COUNT];
static _Thread_local struct conn* conns;
static _Thread_local int max_fds;
static _Thread_local int starved_head = -1;
static _Thread_local struct dgram_socket dgram_sockets[PEER_MAX_ENDPOINTS];
static _Thread_local struct msghdr dgram_recv_msg; /* what multishot recvmsg lays out: a name, no control */
static _Thread_local struct dgram_send dgram_sends[DGRAM_BUF_COUNT];

static struct io_uring_sqe* sqe_for(uint64_t user_data) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) { /* the SQ is full: hand it to the kernel and go on */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  if (sqe == NULL) {
    fprintf(stderr, "peer-uring: no submission queue entry\n");
    exit(1);
  }
  io_uring_sqe_set_data64(sqe, user_data);
  return sqe;
}

static char* pool_buffer(const struct pool* p, uint16_t id) {
  return p->memory + (size_t)id * p->size;
}

static void pool_give_back(struct pool* p, uint16_t id) {
  io_uring_buf_ring_add(p->ring, pool_buffer(p, id), p->size, id, io_uring_buf_ring_mask(p->count),
                        p->returned);
  ++p->returned;
}

/* Publishes the buffers given back this turn; whether there were any. */
static int pool_publish(struct pool* p) {
  if (p->returned == 0) return 0;
  io_uring_buf_ring_advance(p->ring, p->returned);
  p->returned = 0;
  return 1;
}

static int pool_init(struct pool* p) {
  size_t ring_bytes = p->count * sizeof(struct io_uring_buf);
  p->ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p->memory = malloc((size_t)p->count * p->size);
  if (p->ring == MAP_FAILED || p->memory == NULL) return -ENOMEM;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)p->ring;
  reg.ring_entries = p->count;
  reg.bgid = p->group;
  int rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc != 0) return rc;
  io_uring_buf_ring_init(p->ring);
  for (unsigned id = 0; id < p->count; ++id) pool_give_back(p, (uint16_t)id);
  pool_publish(p);
  return 0;
}

static char* buffer(uint16_t id) { return pool_buffer(&stream_pool, id); }
static void give_back(uint16_t id) { pool_give_back(&stream_pool, id); }

static void arm_accept(int index) {
  struct io_uring_sqe* sqe = sqe_for(tag(K_ACCEPT, (uint64_t)index));
  io_uring_prep_multishot_accept(sqe, endpoints[index].fd, NULL, NULL, SOCK_CLOEXEC);
}

static void arm_recv(int fd) {
  struct io_uring_sqe* sqe = sqe_for(tag(K_RECV, (uint64_t)fd));
  io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = stream_pool.group;
  conns[fd].recv_armed = 1;
}

static void send_head(int fd) {
  struct conn* c = &conns[fd];
  struct io_uring_sqe* sqe = sqe_for(tag(K_SEND, (uint64_t)fd));
  io_uring_prep_send(sqe, fd, buffer(c->head) + c->head_sent, buf_len[c->head] - c->head_sent,
                     MSG_NOSIGNAL);
  c->sending = 1;
}

static void close_if_done(int fd) {
  struct conn* c = &conns[fd];
  if (c->ended && !c->recv_armed && !c->sending && c->head == NO_BUF && !c->starved) {
    close(fd);
  }
}

/* The connection failed or ended: what is queued is dropped, the receive
 * ends (shutdown makes a multishot receive complete), then the fd closes. */
static void end_conn(int fd, int failed) {
  struct conn* c = &conns[fd];
  c->ended = 1;
  if (failed) {
    if (!c->sending) {
      while (c->head != NO_BUF) {
        uint16_t id = c->head;
        c->head = next_buf[id];
        give_back(id);
      }
      c->tail = NO_BUF;
    }
    if (c->recv_armed) shutdown(fd, SHUT_RDWR);
  }
  close_if_done(fd);
}

static void on_accept(int index, const struct io_uring_cqe* cqe) {
  if (cqe->res >= 0) {
    int fd = cqe->res;
    if (fd >= max_fds) {
      close(fd);
    } else {
      peer_tune_accepted(&endpoints[index], fd);
      conns[fd] = (struct conn){.head = NO_BUF, .tail = NO_BUF, .next_starved = -1};
      ++counters.connections;
      arm_recv(fd);
    }
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    if (cqe->res < 0 && peer_accept_should_pause(-cqe->res)) {
      /* Out of fds: come back after a pause instead of spinning. */
      io_uring_prep_timeout(sqe_for(tag(K_ACCEPT_PAUSE, (uint64_t)index)),
                            (struct __kernel_timespec*)&pause_time, 0, 0);
    } else {
      arm_accept(index);
    }
  }
}

static void on_recv(int fd, const struct io_uring_cqe* cqe) {
  struct conn* c = &conns[fd];
  int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
  if (cqe->res > 0) {
    uint16_t id = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    ++counters.messages_in;
    counters.bytes_in += (uint64_t)cqe->res;
    if (config.mode != PEER_ECHO || c->ended) {
      give_back(id);
    } else {
      buf_len[id] = (uint32_t)cqe->res;
      next_buf[id] = NO_BUF;
      if (c->head == NO_BUF) {
        c->head = id;
        c->head_sent = 0;
      } else {
        next_buf[c->tail] = id;
      }
      c->tail = id;
      if (!c->sending) send_head(fd);
    }
  }
  if (more) return;
  c->recv_armed = 0;
  if (cqe->res == -ENOBUFS && !c->ended) {
    /* Every buffer is out: armed again when some come back this turn. */
    c->starved = 1;
    c->next_starved = starved_head;
    starved_head = fd;
  } else if (cqe->res > 0 && !c->ended) {
    arm_recv(fd);
  } else {
    end_conn(fd, cqe->res < 0);
  }
}

static void on_send(int fd, const struct io_uring_cqe* cqe) {
  struct conn* c = &conns[fd];
  c->sending = 0;
  if (cqe->res < 0) {
    end_conn(fd, 1);
    return;
  }
  counters.bytes_out += (uint64_t)cqe->res;
  c->head_sent += (uint32_t)cqe->res;
  if (c->head_sent == buf_len[c->head]) {
    uint16_t id = c->head;
    c->head = next_buf[id];
    c->head_sent = 0;
    if (c->head == NO_BUF) c->tail = NO_BUF;
    give_back(id);
  }
  if (c->head != NO_BUF) {
    send_head(fd);
  } else {
    close_if_done(fd);
  }
}

static void arm_dgram_recv(int index) {
  struct io_uring_sqe* sqe = sqe_for(tag(K_DGRAM_RECV, (uint64_t)index));
  io_uring_prep_recvmsg_multishot(sqe, dgram_sockets[index].fd, &dgram_recv_msg, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = dgram_pool.group;
}

static void on_dgram_recv(int index, const struct io_uring_cqe* cqe) {
  if (cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
    uint16_t id = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    char* data = pool_buffer(&dgram_pool, id);
    struct io_uring_recvmsg_out* out = io_uring_recvmsg_validate(data, cqe->res, &dgram_recv_msg);
    unsigned length =
        out != NULL ? io_uring_recvmsg_payload_length(out, cqe->res, &dgram_recv_msg) : 0;
    if (out != NULL) {
      ++counters.messages_in;
      counters.bytes_in += length;
    }
    if (out == NULL || config.mode != PEER_ECHO) {
      pool_give_back(&dgram_pool, id);
    } else {
      struct dgram_send* send = &dgram_sends[id];
      send->iov.iov_base = io_uring_recvmsg_payload(out, &dgram_recv_msg);
      send->iov.iov_len = length;
      send->msg = (struct msghdr){.msg_name = io_uring_recvmsg_name(out),
                                  .msg_namelen = out->namelen,
                                  .msg_iov = &send->iov,
                                  .msg_iovlen = 1};
      io_uring_prep_sendmsg(sqe_for(tag(K_DGRAM_SEND, id)), dgram_sockets[index].fd, &send->msg,
                            MSG_NOSIGNAL);
    }
  }
  if (cqe->flags & IORING_CQE_F_MORE) return;
  if (cqe->res == -ENOBUFS) {
    dgram_sockets[index].starved = 1; /* armed again when buffers come back */
  } else {
    arm_dgram_recv(index); /* an ICMP error reported on the socket, or the kernel ended it */
  }
}

static void on_dgram_send(int id, const struct io_uring_cqe* cqe) {
  if (cqe->res > 0) counters.bytes_out += (uint64_t)cqe->res;
  pool_give_back(&dgram_pool, (uint16_t)id); /* a send that failed drops the datagram, as UDP may */
}

static int setup_ring(void) {
  static const unsigned flag_sets[] = {
      IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int rc = -EINVAL;
  for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; ++i) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
    params.cq_entries = CQ_ENTRIES;
    rc = io_uring_queue_init_params(RING_ENTRIES, &ring, &params);
    if (rc == 0) break;
    if (rc != -EINVAL) return rc;
  }
  if (rc != 0) return rc;
  io_uring_register_ring_fd(&ring);

  rc = pool_init(&stream_pool);
  return rc != 0 ? rc : pool_init(&dgram_pool);
}

static void serve(struct peer_thread* t) {
  endpoints = t->endpoints;
  struct rlimit limit; /* peer_run has raised it */
  max_fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                ? (int)limit.rlim_cur
                : 1 << 20;
  /* Indexed by fd (fds are the process's, shared by the threads); pages come as touched. */
  conns = calloc((size_t)max_fds, sizeof *conns);
  int rc = setup_ring();
  if (conns == NULL || rc != 0) {
    fprintf(stderr, "peer-uring: setting up: %s\n", strerror(rc != 0 ? -rc : errno));
    exit(1);
  }

  dgram_recv_msg.msg_namelen = sizeof(struct sockaddr_storage);
  for (int i = 0; i < config.count; ++i) {
    if (endpoints[i].transport == PEER_UDP) {
      dgram_sockets[i].fd = endpoints[i].fd;
      arm_dgram_recv(i);
    } else {
      arm_accept(i);
    }
  }
  io_uring_prep_poll_add(sqe_for(tag(K_STOP, 0)), t->stop_fd, POLLIN);
  peer_loop_ready();

  int running = 1;
  while (running) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fprintf(stderr, "peer-uring: io_uring_submit_and_wait: %s\n", strerror(-rc));
      exit(1);
    }
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      uint64_t data = io_uring_cqe_get_data64(cqe);
      int index = (int)(data >> 8);
      switch ((enum kind)(data & 0xFF)) {
        case K_ACCEPT: on_accept(index, cqe); break;
        case K_ACCEPT_PAUSE: arm_accept(index); break;
        case K_RECV: on_recv(index, cqe); break;
        case K_SEND: on_send(index, cqe); break;
        case K_DGRAM_RECV: on_dgram_recv(index, cqe); break;
        case K_DGRAM_SEND: on_dgram_send(index, cqe); break;
        case K_STOP: running = 0; break;
      }
    }
    io_uring_cq_advance(&ring, seen);
    if (pool_publish(&dgram_pool)) {
      for (int i = 0; i < config.count; ++i) {
        if (!dgram_sockets[i].starved) continue;
        dgram_sockets[i].starved = 0;
        arm_dgram_recv(i);
      }
    }
    if (pool_publish(&stream_pool)) {
      while (starved_head >= 0) { /* buffers came back: arm the starved receives */
        int fd = starved_head;
        starved_head = conns[fd].next_starved;
        conns[fd].starved = 0;
        if (conns[fd].ended) {
          close_if_done(fd);
        } else {
          arm_recv(fd);
        }
      }
    }
  }
  t->counters = counters;
  io_uring_queue_exit(&ring);
}

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  return peer_run(&config, 0, serve);
}
