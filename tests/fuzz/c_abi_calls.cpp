// Fuzzes the C ABI (bindings-c/include/ringsock.h) with arbitrary arguments:
// the input is a program, one call per opcode byte followed by the bytes of
// its arguments (see run_call). Two loop slots, four operations, two
// endpoints; every loop is closed at the end of the input.
//
// Properties: no call crashes; every result is >= 0 or a negated errno; a
// refused submit leaves its operation's bytes exactly as they were; a submit
// without a callback is -EINVAL and one on an operation in flight -EBUSY; a
// refused endpoint parse leaves the endpoint untouched; formatting never
// writes past its capacity; rsk_strerror() answers any int with text.
//
// What the ABI cannot check, and this harness therefore never passes:
// - wild pointers, and lengths longer than the memory behind a pointer (only
//   NULL, and lengths above INT32_MAX, are checked);
// - loop storage that is neither zeroed nor from rsk_loop_init() (its magic
//   word could happen to be right), and operation storage that is not zeroed
//   or rsk_op_init()ed (RSK_OP_INIT);
// - rsk_op_init() on an operation in flight, or reusing one that was in flight
//   when its loop closed without rsk_op_init() first (the header says so);
// - rsk_cancel() through another loop than the one the operation runs on (an
//   operation does not record its loop);
// - fds the caller does not own: submits get only bad fd numbers, the two
//   ends of a pipe the harness keeps open, and a stream and a datagram UNIX
//   socketpair made for each input (real data flows between their ends);
//   none of them is closed through the ABI (rsk_close gets bad fds only), and
//   nothing touches the process's own files or the network;
// - option values that are valid but take a lot of memory (a 32 GiB buffer
//   pool is a legal request): in-range sizes are kept small, out-of-range ones
//   are passed as they are.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "ringsock.h"

namespace {

constexpr int kLoops = 2;
constexpr int kOps = 4;
constexpr int kEndpoints = 2;
constexpr size_t kBufferBytes = 256;
constexpr int kMaxCalls = 64;
constexpr int kMaxLoopInits = 4;
constexpr size_t kPieces = 8;  // sendv / sendtov pieces per operation

struct World {
  rsk_loop loops[kLoops] = {};
  rsk_op ops[kOps] = {};
  int op_loop[kOps] = {-1, -1, -1, -1};  // the loop an op was last submitted to
  rsk_endpoint endpoints[kEndpoints] = {};
  uint8_t buffers[kOps][kBufferBytes] = {};
  iovec pieces[kOps][kPieces] = {};  // sendv / sendtov: kept while the op is in flight
  int loop_inits = 0;
  int stream_pair[2] = {-1, -1};  // this input's own sockets
  int dgram_pair[2] = {-1, -1};
};

// The pipe the harness owns: a valid fd that is not a socket.
const int* harness_pipe() {
  static int fds[2] = {-1, -1};
  if (fds[0] < 0 && pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) fds[0] = fds[1] = -1;
  return fds;
}

bool is_errno_result(int rc) { return rc >= 0 || (rc < 0 && rc > -4096); }

void on_complete(rsk_loop* loop, rsk_op*, const rsk_completion* completion) {
  FUZZ_CHECK(is_errno_result(completion->result));
  if (completion->has_buffer) {
    FUZZ_CHECK(completion->data != nullptr && completion->result >= 0 &&
               completion->result <= rsk_loop_buffer_size(loop));
    FUZZ_CHECK(rsk_loop_release_buffer(loop, completion->buffer_id) == 0);
  }
}

int pick_fd(const World& w, uint8_t choice) {
  const int* pipe_fds = harness_pipe();
  const int fds[] = {-1,        INT_MIN,          INT_MAX,          1 << 20,
                     65535,     pipe_fds[0],      pipe_fds[1],      -EBADF,
                     w.stream_pair[0], w.stream_pair[1], w.dgram_pair[0], w.dgram_pair[1]};
  return fds[choice % (sizeof fds / sizeof fds[0])];
}

// The fds the harness owns: never closed through the ABI.
bool owned(const World& w, int fd) {
  return fd >= 0 && (fd == harness_pipe()[0] || fd == harness_pipe()[1] ||
                     fd == w.stream_pair[0] || fd == w.stream_pair[1] || fd == w.dgram_pair[0] ||
                     fd == w.dgram_pair[1]);
}

// A field: out-of-range values as they are, in-range ones made small (bit set
// in `raw_mask`: the raw 32 bits).
uint32_t option_field(ringsock_fuzz::ByteReader& in, bool raw, uint32_t small_max) {
  uint32_t value = in.take<uint32_t>();
  return raw ? value : value % (small_max + 1);
}

void loop_init(World& w, ringsock_fuzz::ByteReader& in) {
  if (w.loop_inits >= kMaxLoopInits) return;
  ++w.loop_inits;
  int slot = in.take<uint8_t>() % kLoops;
  uint8_t how = in.take<uint8_t>();
  uint16_t raw = in.take<uint16_t>();
  rsk_loop_options options;
  rsk_loop_options_init(&options);
  options.backend = option_field(in, raw & 1, 2);
  options.ring_entries = option_field(in, raw & 2, 64);
  options.completion_entries = option_field(in, raw & 4, 256);
  options.buffer_count = option_field(in, raw & 8, 64);
  options.buffer_size = option_field(in, raw & 16, 8192);
  options.max_fds = option_field(in, raw & 32, 1024);
  if (options.max_fds == 0) options.max_fds = 1024;  // 0 would be RLIMIT_NOFILE's 64k
  options.max_timers = option_field(in, raw & 64, 4096);
  options.busy_poll_us = option_field(in, raw & 128, 100);
  options.batch_wait_us = option_field(in, raw & 1024, 100);
  options.batch_wait_count = option_field(in, raw & 2048, 64);
  options.zero_copy_min_bytes = option_field(in, raw & 4096, 65536);
  if (raw & 256) options.zero_copy_min_bytes = in.take<uint32_t>();  // any size is valid
  // Valid but large: kept small as the harness promises.
  if (!(raw & 512) && options.buffer_count > 64) options.buffer_count = 64;

  size_t size = (how & 1) ? sizeof(rsk_loop) : sizeof(rsk_loop) + (how >> 1) - 64;
  int rc = rsk_loop_init(&w.loops[slot], size, (how & 2) ? nullptr : &options);
  FUZZ_CHECK(is_errno_result(rc));
  if (size != sizeof(rsk_loop)) FUZZ_CHECK(rc == -EINVAL);
  FUZZ_CHECK(rsk_loop_backend_reason(&w.loops[slot]) != nullptr);
}

void loop_close(World& w, int slot) {
  int rc = rsk_loop_close(&w.loops[slot]);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  // Operations in flight were dropped and stay marked: re-initialise them.
  for (int i = 0; i < kOps; ++i) {
    if (w.op_loop[i] == slot && rsk_op_in_flight(&w.ops[i])) rsk_op_init(&w.ops[i]);
  }
}

void endpoint_parse(World& w, ringsock_fuzz::ByteReader& in) {
  uint8_t how = in.take<uint8_t>();
  std::string url(in.bytes(in.take<uint8_t>() % 128));
  rsk_endpoint* out = (how & 1) ? nullptr : &w.endpoints[(how >> 1) % kEndpoints];
  const char* error = nullptr;
  rsk_endpoint before{};
  if (out != nullptr) before = *out;
  int rc = rsk_endpoint_parse((how & 4) ? nullptr : url.c_str(), out, (how & 8) ? nullptr : &error);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (!(how & 8)) FUZZ_CHECK(error != nullptr);
  if (rc != 0 && out != nullptr) FUZZ_CHECK(std::memcmp(&before, out, sizeof before) == 0);
}

void endpoint_format(World& w, ringsock_fuzz::ByteReader& in) {
  uint8_t how = in.take<uint8_t>();
  size_t capacity = in.take<uint8_t>();
  const rsk_endpoint* endpoint = (how & 1) ? nullptr : &w.endpoints[(how >> 1) % kEndpoints];
  auto block = std::make_unique<char[]>(capacity);  // exactly: ASan sees any overrun
  int rc = rsk_endpoint_format(endpoint, (how & 4) ? nullptr : block.get(), capacity);
  FUZZ_CHECK(rc >= 0 || rc == -EINVAL || rc == -ENOSPC);
  if (rc >= 0) {
    FUZZ_CHECK(size_t(rc) < capacity && block[size_t(rc)] == '\0');
    FUZZ_CHECK(rc < RSK_ENDPOINT_URL_MAX);
  }
}

// Plain data: any bytes are an endpoint the ABI must judge.
void endpoint_garbage(World& w, ringsock_fuzz::ByteReader& in) {
  rsk_endpoint& e = w.endpoints[in.take<uint8_t>() % kEndpoints];
  std::string bytes(in.bytes(sizeof e));
  std::memcpy(static_cast<void*>(&e), bytes.data(), bytes.size());
}

// Pieces for sendv / sendtov over an op's buffer: `length` cut into `count`
// pieces where the input says (empty ones too). A NULL data makes every base
// NULL; a length above INT32_MAX rides in the pieces as it is; count 0, or
// above IOV_MAX (beyond the array: refused before it is read). All refused,
// except NULL bases of empty pieces. Returns the count.
size_t make_pieces(World& w, int index, uint8_t* data, size_t length, uint64_t cuts) {
  size_t count = cuts % (kPieces + 1);
  if ((cuts >> 4) % 16 == 0) count = size_t(IOV_MAX) + 1 + (cuts >> 8) % 4;
  bool huge = length > kBufferBytes;  // then every base is data itself: no pointer past the buffer
  size_t left = length;
  for (size_t i = 0; i < count && i < kPieces; ++i) {
    size_t take = i + 1 == count ? left : (cuts >> (12 + 6 * i)) % (left + 1);
    uint8_t* base = data == nullptr ? nullptr : huge ? data : data + (length - left);
    w.pieces[index][i] = iovec{base, take};
    left -= take;
  }
  return count;
}

// One submit of any kind, with the arguments the input picks.
void submit(World& w, ringsock_fuzz::ByteReader& in) {
  uint8_t kind = in.take<uint8_t>();
  uint8_t where = in.take<uint8_t>();
  uint8_t how = in.take<uint8_t>();
  int slot = where % kLoops;
  int index = (where >> 1) % kOps;
  rsk_loop* loop = (how & 1) ? nullptr : &w.loops[slot];
  rsk_op* op = &w.ops[index];
  int fd = pick_fd(w, in.take<uint8_t>());
  rsk_callback callback = (how & 2) ? nullptr : on_complete;
  void* data = (how & 4) ? nullptr : w.buffers[index];
  // Lengths within the buffer, or above INT32_MAX (refused before any use).
  uint32_t raw_length = in.take<uint32_t>();
  // (% 1024 keeps the sum from wrapping where size_t has 32 bits.)
  size_t length = (how & 8) ? size_t(INT32_MAX) + 1 + raw_length % 1024
                            : raw_length % (kBufferBytes + 1);
  rsk_endpoint* peer = (how & 16) ? nullptr : &w.endpoints[(how >> 5) % kEndpoints];
  auto* user = reinterpret_cast<void*>(uintptr_t(in.take<uint16_t>()));  // never dereferenced
  uint64_t number = in.take<uint64_t>();
  // Closing only fds the harness does not own (bad numbers).
  int bad_fd = owned(w, fd) ? -1 : fd;

  // sendv / sendtov: their pieces (the array stays while the op is in flight).
  bool vectored = (kind % 17 == 13 || kind % 17 == 14) && !rsk_op_in_flight(op);
  // rsk_post_to: the other loop slot (or the same), where the op then belongs.
  int target = (how >> 5) % kLoops;
  size_t count = vectored ? make_pieces(w, index, static_cast<uint8_t*>(data), length, number) : 0;

  bool was_in_flight = rsk_op_in_flight(op) != 0;
  rsk_op before = *op;
  int rc = -EINVAL;
  switch (kind % 17) {
    case 0: rc = rsk_accept(loop, op, fd, peer, callback, user); break;
    case 1: rc = rsk_accept_multishot(loop, op, fd, callback, user); break;
    case 2: rc = rsk_connect(loop, op, fd, peer, callback, user); break;
    case 3: rc = rsk_send(loop, op, fd, data, length, callback, user); break;
    case 4: rc = rsk_recv(loop, op, fd, data, length, callback, user); break;
    case 5: rc = rsk_recv_multishot(loop, op, fd, callback, user); break;
    case 6: rc = rsk_sendto(loop, op, fd, data, length, peer, callback, user); break;
    case 7: rc = rsk_recvfrom(loop, op, fd, data, length, peer, callback, user); break;
    case 8: rc = rsk_recvfrom_multishot(loop, op, fd, callback, user); break;
    case 9: rc = rsk_shutdown(loop, op, fd, int(number), callback, user); break;
    case 10: rc = rsk_close(loop, op, bad_fd, callback, user); break;
    case 11: rc = rsk_timeout(loop, op, number, callback, user); break;
    case 12: rc = rsk_nop(loop, op, callback, user); break;
    case 13:
      rc = rsk_sendv(loop, op, fd, vectored ? w.pieces[index] : nullptr, count, callback, user);
      break;
    case 14:
      rc = rsk_sendtov(loop, op, fd, vectored ? w.pieces[index] : nullptr, count, peer, callback,
                       user);
      break;
    case 15: rc = rsk_post(loop, op, number, callback, user); break;
    case 16: rc = rsk_post_to(loop, &w.loops[target], op, number, callback, user); break;
  }
  // A vectored send is taken only with 1 .. IOV_MAX pieces and at most INT32_MAX bytes.
  if (rc == 0 && (kind % 17 == 13 || kind % 17 == 14)) {
    FUZZ_CHECK(count >= 1 && count <= IOV_MAX && length <= INT32_MAX);
  }
  if (rc == 0 && kind % 17 >= 15) FUZZ_CHECK(rsk_op_post_value(op) == number);
  FUZZ_CHECK(rc == 0 || (rc < 0 && rc > -4096));
  if (rc < 0) FUZZ_CHECK(std::memcmp(&before, op, sizeof before) == 0);
  if (callback == nullptr || loop == nullptr) FUZZ_CHECK(rc == -EINVAL);
  // -EINVAL when the loop slot was never initialised.
  if (was_in_flight) FUZZ_CHECK(rc == -EBUSY || rc == -EINVAL);
  if (rc == 0) {
    FUZZ_CHECK(rsk_op_in_flight(op) == 1);
    w.op_loop[index] = kind % 17 == 16 ? target : slot;
  }
}

void op_call(World& w, ringsock_fuzz::ByteReader& in) {
  uint8_t what = in.take<uint8_t>();
  uint8_t where = in.take<uint8_t>();
  int index = (where >> 1) % kOps;
  rsk_op* op = &w.ops[index];
  // The op's own loop while it is in flight (see the list above).
  int slot = rsk_op_in_flight(op) ? w.op_loop[index] : where % kLoops;
  rsk_loop* loop = &w.loops[slot];
  switch (what % 4) {
    case 0:
      if (!rsk_op_in_flight(op)) rsk_op_init(op);
      break;
    case 1: FUZZ_CHECK(rsk_op_set_timeout(op, in.take<uint64_t>()) == 0); break;
    case 2: {
      int rc = rsk_cancel(loop, op);
      FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EALREADY || rc == -EINVAL);
      break;
    }
    case 3:
      (void)rsk_op_user_data(op);
      FUZZ_CHECK(is_errno_result(rsk_op_fd(op)));
      (void)rsk_op_transferred(op);
      break;
  }
  FUZZ_CHECK(rsk_op_in_flight(nullptr) == 0 && rsk_op_fd(nullptr) == -EINVAL);
}

void loop_call(World& w, ringsock_fuzz::ByteReader& in) {
  uint8_t what = in.take<uint8_t>();
  rsk_loop* loop = (what & 0x80) ? nullptr : &w.loops[(what >> 3) % kLoops];
  int rc = 0;
  switch (what % 8) {
    case 0: {
      // Never a mode that could wait: only no-wait, or modes out of range.
      int mode = in.take<int32_t>();
      if (mode == RSK_RUN_ONCE || mode == RSK_RUN_UNTIL_DONE) mode = RSK_RUN_NOWAIT;
      rc = rsk_loop_run(loop, mode);
      break;
    }
    case 1: rc = rsk_loop_stop(loop); break;
    case 2: rc = rsk_loop_wake(loop); break;
    case 3: rc = rsk_loop_backend(loop); break;
    case 4: rc = rsk_loop_active(loop); break;
    case 5: rc = rsk_loop_buffer_size(loop); break;
    case 6: {
      rc = rsk_loop_release_buffer(loop, in.take<uint32_t>());
      FUZZ_CHECK(rc == -EINVAL);  // the callback gave every buffer back at once
      break;
    }
    case 7: {
      size_t capacity = in.take<uint16_t>() % 300;
      auto block = std::make_unique<char[]>(capacity);
      rc = rsk_loop_capabilities(loop, (what & 0x40) ? nullptr : block.get(), capacity);
      if (rc >= 0) FUZZ_CHECK(size_t(rc) < capacity && block[size_t(rc)] == '\0');
      break;
    }
  }
  FUZZ_CHECK(is_errno_result(rc));
  FUZZ_CHECK(rsk_loop_backend_reason(loop) != nullptr);
}

void misc_call(ringsock_fuzz::ByteReader& in) {
  int result = in.take<int32_t>();
  const char* text = rsk_strerror(result);
  FUZZ_CHECK(text != nullptr && text[0] != '\0');
  FUZZ_CHECK(rsk_version() == RSK_VERSION);
  FUZZ_CHECK(rsk_loop_size() == sizeof(rsk_loop) && rsk_op_size() == sizeof(rsk_op));
  rsk_loop_options_init(nullptr);
  rsk_op_init(nullptr);
}

void run_call(World& w, ringsock_fuzz::ByteReader& in) {
  switch (in.take<uint8_t>() % 10) {
    case 0: loop_init(w, in); break;
    case 1: loop_close(w, in.take<uint8_t>() % kLoops); break;
    case 2: endpoint_parse(w, in); break;
    case 3: endpoint_format(w, in); break;
    case 4: endpoint_garbage(w, in); break;
    case 5:
    case 6: submit(w, in); break;
    case 7: op_call(w, in); break;
    case 8: loop_call(w, in); break;
    case 9: misc_call(in); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto world = std::make_unique<World>();
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, world->stream_pair) == 0);
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, world->dgram_pair) == 0);
  ringsock_fuzz::ByteReader in(data, size);
  for (int call = 0; call < kMaxCalls && !in.empty(); ++call) run_call(*world, in);
  for (int slot = 0; slot < kLoops; ++slot) loop_close(*world, slot);
  for (int fd : {world->stream_pair[0], world->stream_pair[1], world->dgram_pair[0], world->dgram_pair[1]}) {
    close(fd);
  }
  return 0;
}
