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
 * - datagrams: a fixed number of recvmsg in flight per socket, each echoed
 *   with sendmsg to its sender from the same slot, then armed again;
 * - SIGINT/SIGTERM: a read on a signalfd.
 *
 * Arguments, sockets and the counters line are bench/peers/peer_common.c's,
 * as for every peer. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_common.h"

enum {
  RING_ENTRIES = 256,
  CQ_ENTRIES = 4 * RING_ENTRIES,
  BUF_COUNT = 1024, /* a power of two: the buffer ring's size */
  BUF_SIZE = 4096,
  BUF_GROUP = 0,
  DGRAM_SLOTS = 32, /* recvmsg in flight per datagram socket */
  NO_BUF = 0xFFFF,
};

/* What a completion is for: the low 8 bits of user_data; the rest is the fd
 * (streams), the endpoint index (accept) or the slot index (datagrams). */
enum kind { K_ACCEPT, K_ACCEPT_PAUSE, K_RECV, K_SEND, K_DGRAM_RECV, K_DGRAM_SEND, K_SIGNAL };

static uint64_t tag(enum kind kind, uint64_t index) { return index << 8 | (uint64_t)kind; }

struct conn {
  uint8_t open;
  uint8_t recv_armed;
  uint8_t sending;
  uint8_t ended;     /* no more input: close once the queue has gone out */
  uint8_t starved;   /* on the list of receives waiting for buffers */
  uint16_t head;     /* buffers waiting to go out, in order (NO_BUF: none) */
  uint16_t tail;
  uint32_t head_sent; /* bytes of the head buffer already sent */
  int next_starved;
};

struct dgram_slot {
  int fd;
  struct msghdr msg;
  struct iovec iov;
  struct sockaddr_storage from;
  char data[65536];
};

static struct peer_config config;
static struct peer_counters counters;
static struct io_uring ring;
static struct io_uring_buf_ring* buffer_ring;
static char* buffers;
static uint16_t next_buf[BUF_COUNT];
static uint32_t buf_len[BUF_COUNT];
static int returned;  /* buffers added to the ring this turn, not yet advanced */
static struct conn* conns;
static int max_fds;
static int starved_head = -1;
static struct dgram_slot* slots;
static struct __kernel_timespec pause_time = {0, PEER_ACCEPT_PAUSE_MS * 1000000LL};
static struct signalfd_siginfo signal_info;
static int signal_fd;

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

static char* buffer(uint16_t id) { return buffers + (size_t)id * BUF_SIZE; }

static void give_back(uint16_t id) {
  io_uring_buf_ring_add(buffer_ring, buffer(id), BUF_SIZE, id, io_uring_buf_ring_mask(BUF_COUNT),
                        returned);
  ++returned;
}

static void arm_accept(int index) {
  struct io_uring_sqe* sqe = sqe_for(tag(K_ACCEPT, (uint64_t)index));
  io_uring_prep_multishot_accept(sqe, config.endpoints[index].fd, NULL, NULL, SOCK_CLOEXEC);
}

static void arm_recv(int fd) {
  struct io_uring_sqe* sqe = sqe_for(tag(K_RECV, (uint64_t)fd));
  io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUF_GROUP;
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
    c->open = 0;
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
      peer_tune_accepted(&config.endpoints[index], fd);
      conns[fd] = (struct conn){.open = 1, .head = NO_BUF, .tail = NO_BUF, .next_starved = -1};
      ++counters.connections;
      arm_recv(fd);
    }
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    if (cqe->res < 0 && peer_accept_should_pause(-cqe->res)) {
      /* Out of fds: come back after a pause instead of spinning. */
      io_uring_prep_timeout(sqe_for(tag(K_ACCEPT_PAUSE, (uint64_t)index)), &pause_time, 0, 0);
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
  struct dgram_slot* s = &slots[index];
  s->iov.iov_base = s->data;
  s->iov.iov_len = sizeof s->data;
  s->msg = (struct msghdr){.msg_name = &s->from, .msg_namelen = sizeof s->from,
                           .msg_iov = &s->iov, .msg_iovlen = 1};
  io_uring_prep_recvmsg(sqe_for(tag(K_DGRAM_RECV, (uint64_t)index)), s->fd, &s->msg, 0);
}

static void on_dgram_recv(int index, const struct io_uring_cqe* cqe) {
  struct dgram_slot* s = &slots[index];
  if (cqe->res < 0 || config.mode != PEER_ECHO) {
    if (cqe->res >= 0) {
      ++counters.messages_in;
      counters.bytes_in += (uint64_t)cqe->res;
    }
    arm_dgram_recv(index); /* an ICMP error reported on the socket, or sink */
    return;
  }
  ++counters.messages_in;
  counters.bytes_in += (uint64_t)cqe->res;
  s->iov.iov_len = (size_t)cqe->res;
  io_uring_prep_sendmsg(sqe_for(tag(K_DGRAM_SEND, (uint64_t)index)), s->fd, &s->msg,
                        MSG_NOSIGNAL);
}

static void on_dgram_send(int index, const struct io_uring_cqe* cqe) {
  if (cqe->res > 0) counters.bytes_out += (uint64_t)cqe->res;
  arm_dgram_recv(index);
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

  size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
  buffer_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  buffers = malloc((size_t)BUF_COUNT * BUF_SIZE);
  if (buffer_ring == MAP_FAILED || buffers == NULL) return -ENOMEM;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)buffer_ring;
  reg.ring_entries = BUF_COUNT;
  reg.bgid = BUF_GROUP;
  rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc != 0) return rc;
  io_uring_buf_ring_init(buffer_ring);
  for (uint16_t id = 0; id < BUF_COUNT; ++id) give_back(id);
  io_uring_buf_ring_advance(buffer_ring, returned);
  returned = 0;
  return 0;
}

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  peer_setup_process();

  struct rlimit limit;
  max_fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                ? (int)limit.rlim_cur
                : 1 << 20;
  conns = calloc((size_t)max_fds, sizeof *conns); /* indexed by fd; pages come as touched */

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, NULL);
  signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);

  int rc = setup_ring();
  if (conns == NULL || signal_fd < 0 || rc != 0) {
    fprintf(stderr, "peer-uring: setting up: %s\n", strerror(rc != 0 ? -rc : errno));
    return 1;
  }

  peer_open_endpoints(&config, 0);
  int dgram_sockets = 0;
  for (int i = 0; i < config.count; ++i) dgram_sockets += config.endpoints[i].transport == PEER_UDP;
  slots = calloc((size_t)dgram_sockets * DGRAM_SLOTS + 1, sizeof *slots);
  if (slots == NULL) {
    fprintf(stderr, "peer-uring: no memory for the datagram slots\n");
    return 1;
  }
  int slot_count = 0;
  for (int i = 0; i < config.count; ++i) {
    if (config.endpoints[i].transport != PEER_UDP) {
      arm_accept(i);
      continue;
    }
    for (int k = 0; k < DGRAM_SLOTS; ++k) {
      slots[slot_count].fd = config.endpoints[i].fd;
      arm_dgram_recv(slot_count++);
    }
  }
  io_uring_prep_read(sqe_for(tag(K_SIGNAL, 0)), signal_fd, &signal_info, sizeof signal_info, 0);
  peer_ready();

  int running = 1;
  while (running) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fprintf(stderr, "peer-uring: io_uring_submit_and_wait: %s\n", strerror(-rc));
      return 1;
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
        case K_SIGNAL: running = 0; break;
      }
    }
    io_uring_cq_advance(&ring, seen);
    if (returned > 0) {
      io_uring_buf_ring_advance(buffer_ring, returned);
      returned = 0;
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
  peer_finish(&config, &counters);
  io_uring_queue_exit(&ring);
  return 0;
}
