// The C ABI: a thin extern "C" layer over the engine. Storage is the
// caller's; every argument is checked before anything is touched, so a
// refused call changes nothing. No exception, C++ type or C++ runtime symbol
// crosses this boundary (the shared library is linked as C to prove it).
#define RSK_BUILDING_LIBRARY 1
#include "ringsock.h"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>

#include "ringsock/capabilities.hpp"
#include "ringsock/endpoint.hpp"
#include "ringsock/loop.hpp"
#include "ringsock/socket.hpp"

namespace {

using ringsock::Completion;
using ringsock::Endpoint;
using ringsock::Loop;
using ringsock::Operation;

constexpr uint32_t kLoopMagic = 0x4c4b5352;  // "RSKL": the storage holds a Loop

struct LoopStorage {
  Loop loop;
  uint32_t magic;
  uint32_t close_deferred;  // rsk_loop_close from a callback: ends when rsk_loop_run returns
};

struct OpStorage {
  Operation op;
  rsk_callback callback;
};

// The C types are the C++ ones, byte for byte.
static_assert(sizeof(LoopStorage) <= RSK_LOOP_SIZE && alignof(LoopStorage) <= RSK_LOOP_ALIGN);
static_assert(sizeof(OpStorage) <= RSK_OP_SIZE && alignof(OpStorage) <= RSK_OP_ALIGN);
static_assert(offsetof(LoopStorage, loop) == 0 && offsetof(OpStorage, op) == 0);
static_assert(sizeof(rsk_endpoint) == sizeof(Endpoint) && alignof(rsk_endpoint) == alignof(Endpoint));
static_assert(offsetof(rsk_endpoint, length) == offsetof(Endpoint, length));
static_assert(offsetof(rsk_endpoint, transport) == offsetof(Endpoint, transport));
static_assert(sizeof(rsk_completion) == sizeof(Completion));
static_assert(offsetof(rsk_completion, more) == offsetof(Completion, more));
static_assert(offsetof(rsk_completion, truncated) == offsetof(Completion, truncated));
static_assert(offsetof(rsk_completion, has_buffer) == offsetof(Completion, has_buffer));
static_assert(offsetof(rsk_completion, buffer_id) == offsetof(Completion, buffer_id));
static_assert(offsetof(rsk_completion, data) == offsetof(Completion, data));
static_assert(offsetof(rsk_completion, peer) == offsetof(Completion, peer));
static_assert(offsetof(rsk_completion, peer_length) == offsetof(Completion, peer_length));
static_assert(RSK_TCP == int(ringsock::Transport::tcp) && RSK_UDP == int(ringsock::Transport::udp));
static_assert(RSK_UNIX == int(ringsock::Transport::unix_stream) &&
              RSK_UNIX_DGRAM == int(ringsock::Transport::unix_dgram));
static_assert(RSK_BACKEND_URING == int(ringsock::BackendKind::uring) &&
              RSK_BACKEND_EPOLL == int(ringsock::BackendKind::epoll));

// Storage at an address that is not a multiple of its alignment (inside a
// packed struct, or at offset 8 of an FFI buffer) is refused at every entry.
bool misaligned(const void* storage, size_t alignment) {
  return (reinterpret_cast<uintptr_t>(storage) & (alignment - 1)) != 0;
}
bool misaligned(const rsk_loop* loop) { return misaligned(loop, alignof(rsk_loop)); }
bool misaligned(const rsk_op* op) { return misaligned(op, alignof(rsk_op)); }

LoopStorage* storage_of(rsk_loop* loop) { return reinterpret_cast<LoopStorage*>(loop); }
const LoopStorage* storage_of(const rsk_loop* loop) {
  return reinterpret_cast<const LoopStorage*>(loop);
}
// The magic, read and written atomically: rsk_post may read it on another
// thread while the loop's own thread closes the storage.
uint32_t magic_of(const LoopStorage* storage) {
  return __atomic_load_n(&storage->magic, __ATOMIC_RELAXED);
}
void set_magic(LoopStorage* storage, uint32_t magic) {
  __atomic_store_n(&storage->magic, magic, __ATOMIC_RELAXED);
}
// The Loop of an initialised, aligned storage, else nullptr.
Loop* loop_of(rsk_loop* loop) {
  if (loop == nullptr || misaligned(loop)) return nullptr;
  return magic_of(storage_of(loop)) == kLoopMagic ? &storage_of(loop)->loop : nullptr;
}
const Loop* loop_of(const rsk_loop* loop) {
  if (loop == nullptr || misaligned(loop)) return nullptr;
  return magic_of(storage_of(loop)) == kLoopMagic ? &storage_of(loop)->loop : nullptr;
}
OpStorage* storage_of(rsk_op* op) { return reinterpret_cast<OpStorage*>(op); }
const OpStorage* storage_of(const rsk_op* op) { return reinterpret_cast<const OpStorage*>(op); }
const Endpoint* endpoint_of(const rsk_endpoint* e) { return reinterpret_cast<const Endpoint*>(e); }
Endpoint* endpoint_of(rsk_endpoint* e) { return reinterpret_cast<Endpoint*>(e); }

// Every C callback goes through here: the C++ types are the C ones.
void trampoline(Loop& loop, Operation& op, const Completion& completion) {
  auto* storage = reinterpret_cast<OpStorage*>(&op);
  storage->callback(reinterpret_cast<rsk_loop*>(&loop), reinterpret_cast<rsk_op*>(storage),
                    reinterpret_cast<const rsk_completion*>(&completion));
}

// Runs `submit` with the C callback installed; a refused call leaves the op as
// it was (the engine restores what it filled in; the callback is ours).
template <class Submit>
int submit_with(rsk_loop* loop, rsk_op* op, rsk_callback callback, Submit submit) {
  Loop* l = loop_of(loop);
  if (l == nullptr || op == nullptr || callback == nullptr || misaligned(op)) return -EINVAL;
  OpStorage* storage = storage_of(op);
  if (storage->op.in_flight()) return -EBUSY;
  rsk_callback previous = storage->callback;
  storage->callback = callback;
  int rc = submit(*l, storage->op);
  if (rc < 0) storage->callback = previous;
  return rc;
}

bool valid_transport(const rsk_endpoint* e) {
  return e->transport >= RSK_TCP && e->transport <= RSK_UNIX_DGRAM;
}

}  // namespace

extern "C" {

// ---- errors and version ------------------------------------------------------------

const char* rsk_strerror(int result) {
  if (result >= 0) return "Success";
  if (result == INT_MIN) return "Unknown error";  // -INT_MIN overflows
  const char* text = strerrordesc_np(-result);  // static text: thread-safe, unlike strerror
  return text != nullptr ? text : "Unknown error";
}

uint32_t rsk_version(void) { return RSK_VERSION; }

const char* rsk_version_string(void) {
#define RSK_STR2(x) #x
#define RSK_STR(x) RSK_STR2(x)
  return RSK_STR(RSK_VERSION_MAJOR) "." RSK_STR(RSK_VERSION_MINOR) "." RSK_STR(RSK_VERSION_PATCH);
#undef RSK_STR
#undef RSK_STR2
}

// ---- endpoints ------------------------------------------------------------------------

int rsk_endpoint_parse(const char* url, rsk_endpoint* out, const char** error) {
  if (url == nullptr || out == nullptr) {
    if (error != nullptr) *error = "url and out must not be NULL";
    return -EINVAL;
  }
  // strnlen: a URL longer than any valid one is refused without reading on.
  std::string_view text(url, strnlen(url, 1024));
  ringsock::ParseResult parsed = ringsock::parse_endpoint(text, *endpoint_of(out));
  if (error != nullptr) *error = parsed.message;
  return parsed.error;
}

int rsk_endpoint_format(const rsk_endpoint* endpoint, char* out, size_t capacity) {
  if (endpoint == nullptr || out == nullptr) return -EINVAL;
  return ringsock::format_endpoint(*endpoint_of(endpoint), out, capacity);
}

// ---- socket set-up --------------------------------------------------------------------

int rsk_listen(const rsk_endpoint* endpoint, int backlog, unsigned flags) {
  constexpr unsigned kKnown = RSK_LISTEN_REUSEPORT | RSK_LISTEN_UNLINK | RSK_LISTEN_V6ONLY |
                              RSK_LISTEN_NO_REUSEADDR;
  if (endpoint == nullptr || (flags & ~kKnown) != 0 || !valid_transport(endpoint)) return -EINVAL;
  ringsock::ListenOptions options;
  if (backlog > 0) options.backlog = backlog;
  options.reuse_port = flags & RSK_LISTEN_REUSEPORT;
  options.unlink_existing = flags & RSK_LISTEN_UNLINK;
  options.ipv6_only = flags & RSK_LISTEN_V6ONLY;
  options.reuse_address = !(flags & RSK_LISTEN_NO_REUSEADDR);
  return ringsock::listen_on(*endpoint_of(endpoint), options);
}

int rsk_socket(const rsk_endpoint* endpoint) {
  if (endpoint == nullptr || !valid_transport(endpoint)) return -EINVAL;
  return ringsock::open_socket(*endpoint_of(endpoint));
}

int rsk_bind_datagram(const rsk_endpoint* local, unsigned flags) {
  if (local == nullptr || (flags & ~RSK_LISTEN_REUSEPORT) != 0 || !valid_transport(local)) {
    return -EINVAL;
  }
  return ringsock::bind_datagram(*endpoint_of(local), flags & RSK_LISTEN_REUSEPORT);
}

int rsk_connect_datagram(const rsk_endpoint* peer, const rsk_endpoint* local) {
  if (peer == nullptr || !valid_transport(peer)) return -EINVAL;
  if (local != nullptr && !valid_transport(local)) return -EINVAL;
  return ringsock::connect_datagram(*endpoint_of(peer), local ? endpoint_of(local) : nullptr);
}

int rsk_local_endpoint(int fd, int transport, rsk_endpoint* out) {
  if (out == nullptr || transport < RSK_TCP || transport > RSK_UNIX_DGRAM) return -EINVAL;
  return ringsock::local_endpoint(fd, ringsock::Transport(transport), *endpoint_of(out));
}

int rsk_set_nodelay(int fd, int enabled) { return ringsock::set_nodelay(fd, enabled != 0); }

int rsk_set_buffer_sizes(int fd, int send_bytes, int receive_bytes) {
  return ringsock::set_buffer_sizes(fd, send_bytes, receive_bytes);
}

int rsk_set_linger_reset(int fd) { return ringsock::set_linger_reset(fd); }

// ---- the loop -----------------------------------------------------------------------------

static rsk_loop_options default_options() {
  rsk_loop_options options{};
  ringsock::LoopOptions defaults;
  options.ring_entries = defaults.ring_entries;
  options.buffer_count = defaults.buffer_count;
  options.buffer_size = defaults.buffer_size;
  return options;
}

// The first layout's size (0.2, up to busy_poll_us; its reserved words were
// zero, which every later option reads as "as before").
constexpr size_t kOptionsMinSize = offsetof(rsk_loop_options, max_lent_per_fd);
// 0.2's whole struct, reserved words included (they hold 0.3's first options):
// what the exported rsk_loop_init reads, since a program built against 0.2
// passes no more. Options after it come through rsk_loop_init_size.
constexpr size_t kOptionsFirstSize = offsetof(rsk_loop_options, direct_descriptors);
static_assert(kOptionsFirstSize == 48, "0.2's rsk_loop_options was 48 bytes");

int rsk_loop_options_init_size(rsk_loop_options* options, size_t options_size) {
  if (options == nullptr || options_size < kOptionsMinSize) return -EINVAL;
  rsk_loop_options defaults = default_options();
  size_t bytes = options_size < sizeof(defaults) ? options_size : sizeof(defaults);
  memcpy(options, &defaults, bytes);  // never past the caller's end
  return 0;
}

static int convert_options(const rsk_loop_options* in, ringsock::LoopOptions& out) {
  if (in == nullptr) return 0;
  if (in->backend > RSK_BACKEND_EPOLL) return -EINVAL;
  out.backend = ringsock::BackendChoice(in->backend);
  if (in->ring_entries != 0) out.ring_entries = in->ring_entries;
  out.completion_entries = in->completion_entries;
  if (in->buffer_count != 0) out.buffer_count = in->buffer_count;
  if (in->buffer_size != 0) out.buffer_size = in->buffer_size;
  out.max_fds = in->max_fds;
  out.max_timers = in->max_timers;
  out.busy_poll_us = in->busy_poll_us;
  out.max_lent_per_fd = in->max_lent_per_fd;
  out.batch_wait_us = in->batch_wait_us;
  out.batch_wait_count = in->batch_wait_count;
  out.zero_copy_min_bytes = in->zero_copy_min_bytes;
  out.direct_descriptors = in->direct_descriptors;
  for (uint32_t word : in->reserved) {
    if (word != 0) return -EINVAL;  // no option of this library's yet
  }
  return 0;
}

static int init_loop(rsk_loop* loop, size_t loop_size, const rsk_loop_options* options) {
  if (loop == nullptr || loop_size != sizeof(rsk_loop) || misaligned(loop)) return -EINVAL;
  ringsock::LoopOptions converted;
  if (convert_options(options, converted) < 0) return -EINVAL;
  LoopStorage* storage = storage_of(loop);
  if (magic_of(storage) != kLoopMagic) {
    new (&storage->loop) Loop();
    storage->close_deferred = 0;
    set_magic(storage, kLoopMagic);
  }
  // A failed init keeps the Loop constructed, so its reason can be read.
  return storage->loop.init(converted);
}

int rsk_loop_init_size(rsk_loop* loop, size_t loop_size, const rsk_loop_options* options,
                       size_t options_size) {
  if (options == nullptr) return init_loop(loop, loop_size, nullptr);
  if (options_size < kOptionsMinSize) return -EINVAL;
  // A shorter (older) struct: the options it lacks keep their defaults (0).
  rsk_loop_options copy{};
  memcpy(&copy, options, options_size < sizeof(copy) ? options_size : sizeof(copy));
  // A longer (newer) struct: options this library does not know must be unset.
  const auto* extra = reinterpret_cast<const unsigned char*>(options) + sizeof(copy);
  for (size_t i = 0; i + sizeof(copy) < options_size; ++i) {
    if (extra[i] != 0) return -EINVAL;
  }
  return init_loop(loop, loop_size, &copy);
}

#undef rsk_loop_options_init  // the header's macros: these are the exported functions
#undef rsk_loop_init

// 0.2's layout and no more (kOptionsFirstSize), as rsk_loop_init below reads.
void rsk_loop_options_init(rsk_loop_options* options) {
  if (options == nullptr) return;
  rsk_loop_options defaults = default_options();
  memcpy(options, &defaults, kOptionsFirstSize);
}

// 0.2's layout and no more (kOptionsFirstSize): the later options keep their defaults.
int rsk_loop_init(rsk_loop* loop, size_t loop_size, const rsk_loop_options* options) {
  if (options == nullptr) return init_loop(loop, loop_size, nullptr);
  rsk_loop_options copy{};
  memcpy(&copy, options, kOptionsFirstSize);
  return init_loop(loop, loop_size, &copy);
}

int rsk_loop_close(rsk_loop* loop) {
  Loop* l = loop_of(loop);
  if (l == nullptr) return -EINVAL;
  int rc = l->deinit();
  if (rc < 0) return rc;  // -EPERM: another thread's loop; -EBUSY: from a post it ends
  if (!l->initialized()) {  // not from a callback: the storage is free again
    set_magic(storage_of(loop), 0);  // first: a racing rsk_post sees a closed storage
    l->~Loop();
  } else {
    storage_of(loop)->close_deferred = 1;  // from a callback: rsk_loop_run finishes it
  }
  return 0;
}

int rsk_loop_run(rsk_loop* loop, int mode) {
  Loop* l = loop_of(loop);
  if (l == nullptr || mode < RSK_RUN_ONCE || mode > RSK_RUN_UNTIL_DONE) return -EINVAL;
  // Only a run that began on a live loop finishes its deferred close: one
  // called from a post the close's release calls back (refused, -EINVAL)
  // must not destroy the Loop under that release.
  const bool was_live = l->initialized();
  int rc = l->run(ringsock::RunMode(mode));
  LoopStorage* storage = storage_of(loop);
  if (was_live && storage->close_deferred != 0 && !l->initialized()) {
    // rsk_loop_close was called from a callback, and its close is done: the
    // storage is closed now, as after a close outside run.
    set_magic(storage, 0);
    l->~Loop();
  }
  return rc;
}

int rsk_loop_stop(rsk_loop* loop) {
  Loop* l = loop_of(loop);
  if (l == nullptr || !l->initialized()) return -EINVAL;
  return l->stop();
}

int rsk_loop_wake(rsk_loop* loop) {
  Loop* l = loop_of(loop);
  return l == nullptr ? -EINVAL : l->wake();
}

int rsk_loop_backend(const rsk_loop* loop) {
  const Loop* l = loop_of(loop);
  return (l == nullptr || !l->initialized()) ? -EINVAL : int(l->backend());
}

const char* rsk_loop_backend_reason(const rsk_loop* loop) {
  const Loop* l = loop_of(loop);
  return l == nullptr ? "loop not initialised" : l->backend_reason();
}

int rsk_loop_capabilities(const rsk_loop* loop, char* out, size_t capacity) {
  const Loop* l = loop_of(loop);
  if (l == nullptr || !l->initialized() || out == nullptr) return -EINVAL;
  if (capacity == 0) return -ENOSPC;  // as a buffer too small for the line
  // Formatted whole first: a line that does not fit is -ENOSPC, never cut.
  char line[512];
  int length = ringsock::format_capabilities(l->capabilities(), line, sizeof(line));
  if (size_t(length) + 1 > capacity) {
    out[0] = '\0';
    return -ENOSPC;
  }
  memcpy(out, line, size_t(length) + 1);
  return length;
}

int rsk_loop_active(const rsk_loop* loop) {
  const Loop* l = loop_of(loop);
  return (l == nullptr || !l->initialized()) ? -EINVAL : int(l->active());
}

int rsk_loop_buffer_size(const rsk_loop* loop) {
  const Loop* l = loop_of(loop);
  return (l == nullptr || !l->initialized()) ? -EINVAL : int(l->buffer_size());
}

int rsk_loop_release_buffer(rsk_loop* loop, unsigned buffer_id) {
  Loop* l = loop_of(loop);
  if (l == nullptr || buffer_id > 0xffffu) return -EINVAL;
  return l->release_buffer(uint16_t(buffer_id));
}

size_t rsk_loop_size(void) { return sizeof(rsk_loop); }
size_t rsk_op_size(void) { return sizeof(rsk_op); }
size_t rsk_loop_align(void) { return alignof(rsk_loop); }
size_t rsk_op_align(void) { return alignof(rsk_op); }

// ---- operations -------------------------------------------------------------------------

void rsk_op_init(rsk_op* op) {
  if (op == nullptr || misaligned(op)) return;  // untouched: every submit refuses it
  memset(op, 0, sizeof(*op));
  new (&storage_of(op)->op) Operation();
}

void* rsk_op_user_data(const rsk_op* op) { return op ? storage_of(op)->op.user_data : nullptr; }
int rsk_op_fd(const rsk_op* op) { return op ? storage_of(op)->op.fd : -EINVAL; }
uint32_t rsk_op_transferred(const rsk_op* op) { return op ? storage_of(op)->op.transferred : 0; }
int rsk_op_in_flight(const rsk_op* op) { return op ? int(storage_of(op)->op.in_flight()) : 0; }
uint64_t rsk_op_post_value(const rsk_op* op) { return op ? storage_of(op)->op.post_value() : 0; }

int rsk_op_set_timeout(rsk_op* op, uint64_t timeout_ns) {
  if (op == nullptr || misaligned(op)) return -EINVAL;
  storage_of(op)->op.timeout_ns = timeout_ns;
  return 0;
}

int rsk_accept(rsk_loop* loop, rsk_op* op, int listen_fd, rsk_endpoint* peer,
               rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.accept(o, listen_fd, peer ? endpoint_of(peer) : nullptr, trampoline, user_data);
  });
}

int rsk_accept_multishot(rsk_loop* loop, rsk_op* op, int listen_fd, rsk_callback callback,
                         void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.accept_multishot(o, listen_fd, trampoline, user_data);
  });
}

int rsk_connect(rsk_loop* loop, rsk_op* op, int fd, const rsk_endpoint* peer,
                rsk_callback callback, void* user_data) {
  if (peer == nullptr) return -EINVAL;
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.connect(o, fd, *endpoint_of(peer), trampoline, user_data);
  });
}

int rsk_send(rsk_loop* loop, rsk_op* op, int fd, const void* data, size_t length,
             rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.send(o, fd, data, length, trampoline, user_data);
  });
}

int rsk_recv(rsk_loop* loop, rsk_op* op, int fd, void* data, size_t length,
             rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.recv(o, fd, data, length, trampoline, user_data);
  });
}

int rsk_recv_multishot(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback,
                       void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.recv_multishot(o, fd, trampoline, user_data);
  });
}

int rsk_sendto(rsk_loop* loop, rsk_op* op, int fd, const void* data, size_t length,
               const rsk_endpoint* peer, rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.sendto(o, fd, data, length, peer ? endpoint_of(peer) : nullptr, trampoline,
                    user_data);
  });
}

int rsk_sendv(rsk_loop* loop, rsk_op* op, int fd, const struct iovec* pieces, size_t count,
              rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.sendv(o, fd, pieces, count, trampoline, user_data);
  });
}

int rsk_sendtov(rsk_loop* loop, rsk_op* op, int fd, const struct iovec* pieces, size_t count,
                const rsk_endpoint* peer, rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.sendtov(o, fd, pieces, count, peer ? endpoint_of(peer) : nullptr, trampoline,
                     user_data);
  });
}

int rsk_recvfrom(rsk_loop* loop, rsk_op* op, int fd, void* data, size_t length,
                 rsk_endpoint* peer, rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.recvfrom(o, fd, data, length, peer ? endpoint_of(peer) : nullptr, trampoline,
                      user_data);
  });
}

int rsk_recvfrom_multishot(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback,
                           void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.recvfrom_multishot(o, fd, trampoline, user_data);
  });
}

int rsk_shutdown(rsk_loop* loop, rsk_op* op, int fd, int how, rsk_callback callback,
                 void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.shutdown(o, fd, how, trampoline, user_data);
  });
}

int rsk_close(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.close(o, fd, trampoline, user_data);
  });
}

int rsk_timeout(rsk_loop* loop, rsk_op* op, uint64_t timeout_ns, rsk_callback callback,
                void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.timeout(o, timeout_ns, trampoline, user_data);
  });
}

int rsk_nop(rsk_loop* loop, rsk_op* op, rsk_callback callback, void* user_data) {
  return submit_with(loop, op, callback,
                     [&](Loop& l, Operation& o) { return l.nop(o, trampoline, user_data); });
}

// From any thread: the C callback is stored before the post is let in, and
// nothing of op is touched after it was (the target may be calling it back).
int rsk_post(rsk_loop* loop, rsk_op* op, uint64_t value, rsk_callback callback,
             void* user_data) {
  return submit_with(loop, op, callback, [&](Loop& l, Operation& o) {
    return l.post(o, value, trampoline, user_data);
  });
}

int rsk_post_to(rsk_loop* source, rsk_loop* target, rsk_op* op, uint64_t value,
                rsk_callback callback, void* user_data) {
  Loop* to = loop_of(target);
  if (to == nullptr) return -EINVAL;
  return submit_with(source, op, callback, [&](Loop& l, Operation& o) {
    return l.post_to(*to, o, value, trampoline, user_data);
  });
}

int rsk_cancel(rsk_loop* loop, rsk_op* op) {
  Loop* l = loop_of(loop);
  if (l == nullptr || op == nullptr || misaligned(op)) return -EINVAL;
  return l->cancel(storage_of(op)->op);
}

}  // extern "C"
