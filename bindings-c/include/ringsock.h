/*
 * ringsock.h - the C ABI of ringsock, a zero-allocation socket engine for
 * Linux (io_uring, with an epoll fallback).
 *
 * Valid C99, C11 and C++. Every function returns an int >= 0 on success or a
 * negated errno (rsk_strerror() says it in words); nothing throws. Loops and
 * operations live in storage the caller provides (static, on the stack, or
 * inside the caller's own structs); rsk_loop_init() takes all the memory a
 * loop will use (buffer pool, tables), and nothing allocates after it.
 *
 * Usage in brief:
 *   rsk_loop loop = RSK_LOOP_INIT;    // zeroed storage; rsk_loop_init() fills it
 *   rsk_loop_init(&loop, sizeof loop, NULL);
 *   rsk_op op = RSK_OP_INIT;          // or rsk_op_init(&op)
 *   rsk_recv(&loop, &op, fd, buf, sizeof buf, on_recv, user);
 *   rsk_loop_run(&loop, RSK_RUN_UNTIL_DONE);
 *   rsk_loop_close(&loop);
 *
 * Caveats: a loop is used by the thread that initialised it (only
 * rsk_loop_wake() and rsk_post() may be called from elsewhere; any other call on it from
 * another thread gets -EPERM and changes nothing). Loop and operation
 * storage must be aligned to RSK_LOOP_ALIGN / RSK_OP_ALIGN (rsk_loop_align(),
 * rsk_op_align() at run time): misaligned storage gets -EINVAL at every
 * call. An operation must stay alive and unmoved from its submit until its
 * terminal callback (completion->more == 0). Callbacks never run inside a
 * submit call.
 */
#ifndef RINGSOCK_H
#define RINGSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ---- version ------------------------------------------------------------- */

#define RSK_VERSION_MAJOR 0
#define RSK_VERSION_MINOR 3
#define RSK_VERSION_PATCH 0
/* One number that compares: (major << 16) | (minor << 8) | patch. */
#define RSK_MAKE_VERSION(major, minor, patch) \
  ((((major) + 0u) << 16) | (((minor) + 0u) << 8) | ((patch) + 0u))
#define RSK_VERSION RSK_MAKE_VERSION(RSK_VERSION_MAJOR, RSK_VERSION_MINOR, RSK_VERSION_PATCH)

/* ---- storage sizes ------------------------------------------------------- */

/* Bytes and alignment of the caller-provided storage, checked against the
 * C++ types when the library is built, and at run time by rsk_loop_size(),
 * rsk_op_size(), rsk_loop_align() and rsk_op_align(). The sizes include room
 * for growth. */
#define RSK_LOOP_SIZE 256
#define RSK_LOOP_ALIGN 16
#define RSK_OP_SIZE 256
#define RSK_OP_ALIGN 16

#if defined(__cplusplus) && __cplusplus >= 201103L
#define RSK_ALIGNED(n) alignas(n)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define RSK_ALIGNED(n) _Alignas(n)
#else
#define RSK_ALIGNED(n) __attribute__((aligned(n)))
#endif

#if defined(RSK_BUILDING_LIBRARY)
#define RSK_API __attribute__((visibility("default")))
#else
#define RSK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors and version -------------------------------------------------- */

/* The message for a result: "Success" for >= 0, else strerror(-result). */
RSK_API const char* rsk_strerror(int result);
/* RSK_VERSION of the library actually linked (compare with the header's). */
RSK_API uint32_t rsk_version(void);
/* "major.minor.patch". */
RSK_API const char* rsk_version_string(void);

/* ---- endpoints ----------------------------------------------------------- */

/* Transports: the socket type and family follow from them. */
#define RSK_TCP 1        /* SOCK_STREAM, IPv4 or IPv6 */
#define RSK_UDP 2        /* SOCK_DGRAM, IPv4 or IPv6 */
#define RSK_UNIX 3       /* SOCK_STREAM, UNIX path or @abstract */
#define RSK_UNIX_DGRAM 4 /* SOCK_DGRAM, UNIX path or @abstract */

/* A socket address and its transport. Plain data: copy it freely. */
typedef struct rsk_endpoint {
  struct sockaddr_storage storage;
  socklen_t length; /* meaningful bytes of storage; 0 = empty */
  uint8_t transport; /* RSK_TCP ... RSK_UNIX_DGRAM */
} rsk_endpoint;

/* Longest URL rsk_endpoint_format() writes, with its NUL. */
#define RSK_ENDPOINT_URL_MAX 160

/* Parses tcp://127.0.0.1:9000, tcp://[::1]:9000, udp://0.0.0.0:5353,
 * unix:///run/app.sock, unix://@abstract, unix-dgram:///tmp/d.sock.
 * Returns 0 or -EINVAL; *error (if error is not NULL) gets a sentence saying
 * what is wrong. On failure *out is unchanged. */
RSK_API int rsk_endpoint_parse(const char* url, rsk_endpoint* out, const char** error);
/* Writes the URL of an endpoint; returns its length, -ENOSPC or -EINVAL. */
RSK_API int rsk_endpoint_format(const rsk_endpoint* endpoint, char* out, size_t capacity);

/* ---- socket set-up (synchronous; fds are non-blocking, close-on-exec) ----- */

#define RSK_LISTEN_REUSEPORT 0x1u      /* SO_REUSEPORT: one listener per thread */
#define RSK_LISTEN_UNLINK 0x2u         /* UNIX path: remove a stale socket file */
#define RSK_LISTEN_V6ONLY 0x4u         /* IPV6_V6ONLY on tcp://[::] */
#define RSK_LISTEN_NO_REUSEADDR 0x8u   /* leave SO_REUSEADDR off */

/* Each returns an fd or -errno; -EPROTOTYPE when the endpoint's transport
 * does not fit the call (a datagram endpoint to rsk_listen, say). */

/* Stream server: socket, bind, listen (backlog <= 0: 1024). Returns the fd. */
RSK_API int rsk_listen(const rsk_endpoint* endpoint, int backlog, unsigned flags);
/* A socket for rsk_connect (streams) or rsk_sendto (datagrams; a UNIX
 * datagram socket is auto-bound so it can get replies). Returns the fd. */
RSK_API int rsk_socket(const rsk_endpoint* endpoint);
/* Datagram server, or a client that owns its port: socket, bind.
 * flags: 0 or RSK_LISTEN_REUSEPORT. Returns the fd. */
RSK_API int rsk_bind_datagram(const rsk_endpoint* local, unsigned flags);
/* Datagram client with a fixed peer (bound to `local` if not NULL). Returns the fd. */
RSK_API int rsk_connect_datagram(const rsk_endpoint* peer, const rsk_endpoint* local);
/* The bound address of fd (to learn an ephemeral port). */
RSK_API int rsk_local_endpoint(int fd, int transport, rsk_endpoint* out);
RSK_API int rsk_set_nodelay(int fd, int enabled);
RSK_API int rsk_set_buffer_sizes(int fd, int send_bytes, int receive_bytes);
/* The next close sends a reset (SO_LINGER {1, 0}). */
RSK_API int rsk_set_linger_reset(int fd);

/* ---- the loop ------------------------------------------------------------ */

typedef struct rsk_loop {
  RSK_ALIGNED(RSK_LOOP_ALIGN) unsigned char opaque[RSK_LOOP_SIZE];
} rsk_loop;

/* Zeroed loop storage, as rsk_loop_init() expects: it reads the storage to
 * tell an initialised loop (-EALREADY), so storage never written (a plain
 * local) is read uninitialised, which valgrind reports. Static storage,
 * memset() or a closed loop will do as well. Since 0.3. */
#define RSK_LOOP_INIT {{0}}

#define RSK_BACKEND_AUTO 0  /* io_uring, else epoll (the default) */
#define RSK_BACKEND_URING 1 /* io_uring or an error */
#define RSK_BACKEND_EPOLL 2

/* Fixed capacities. Start from rsk_loop_options_init(); 0 means "default"
 * for every count. The environment variable RINGSOCK_BACKEND=uring|epoll|auto
 * overrides `backend`. */
typedef struct rsk_loop_options {
  uint32_t backend;            /* RSK_BACKEND_* */
  uint32_t ring_entries;       /* SQ entries (default 256) */
  uint32_t completion_entries; /* CQ entries (default 4 x ring_entries) */
  uint32_t buffer_count;       /* pool buffers, a power of two (default 512) */
  uint32_t buffer_size;        /* bytes per pool buffer, 256..1 MiB (default 4096) */
  uint32_t max_fds;            /* fd table size (default RLIMIT_NOFILE, at most 65536) */
  uint32_t max_timers;         /* epoll's deadline slots (default 2 x max_fds + 64) */
  uint32_t busy_poll_us;       /* before blocking, poll up to this long (0 = off, <= 1000000) */
  uint32_t max_lent_per_fd;    /* pool buffers one fd may hold lent; at it, its multishot
                                  receive pauses until some come back (0 = no cap). Since 0.3 */
  uint32_t batch_wait_us;      /* a blocking run sleeps until batch_wait_count completions or
                                  this long, then takes what is ready (0 = off, <= 1000000;
                                  io_uring on Linux 6.12+, else ignored). Since 0.3 */
  uint32_t batch_wait_count;   /* the batch that ends it early (0 = the CQ's size). Since 0.3 */
  uint32_t zero_copy_min_bytes; /* sends of at least this many bytes go out zero-copy
                                  (SEND_ZC): the buffer stays the kernel's until the terminal
                                  callback (0 = off; io_uring with send_zc, else ignored).
                                  Since 0.3, in the last of 0.2's reserved words */
  /* From here on read only through rsk_loop_init_size(), which the
   * rsk_loop_init() macro below calls with this struct's size. */
  uint32_t direct_descriptors; /* accepts put each connection into a table of this many
                                  io_uring direct descriptors, numbered from
                                  RSK_DIRECT_DESCRIPTOR up,
                                  which this loop's calls take and no system call does;
                                  rsk_close() empties the slot; a full table is -EMFILE
                                  (0 = off, <= 65536; io_uring on Linux 6.13+, else ignored
                                  and accepts return fds: rsk_loop_capabilities() says
                                  "direct=N" when it is on). Since 0.3 */
  uint32_t reserved[3];        /* zero: later options, "as before" */
} rsk_loop_options;

/* A connection accepted into slot s of the loop's direct descriptors
 * (rsk_loop_options.direct_descriptors) is a number at or above
 * RSK_DIRECT_DESCRIPTOR: test one with RSK_IS_DIRECT_DESCRIPTOR, never
 * compute one. */
#define RSK_DIRECT_DESCRIPTOR (1 << 30)
#define RSK_IS_DIRECT_DESCRIPTOR(fd) ((fd) >= RSK_DIRECT_DESCRIPTOR)

RSK_API void rsk_loop_options_init(rsk_loop_options* options);
/* The same for a struct of options_size bytes (sizeof(rsk_loop_options) as
 * the caller's header has it): never writes past options_size. Returns 0, or
 * -EINVAL (NULL, or shorter than the first layout). Since 0.3. */
RSK_API int rsk_loop_options_init_size(rsk_loop_options* options, size_t options_size);

/* Sets up a loop in zeroed (RSK_LOOP_INIT) or closed caller storage:
 * loop_size must be sizeof(rsk_loop); options may be NULL. Returns 0 or
 * -errno (-EINVAL for bad arguments or options, -EALREADY if it is
 * initialised, -EBUSY from a post callback of its own close);
 * rsk_loop_backend_reason() says why it failed, too. */
RSK_API int rsk_loop_init(rsk_loop* loop, size_t loop_size, const rsk_loop_options* options);
/* rsk_loop_init() with the options' size: never reads past options_size;
 * options a shorter struct lacks keep their defaults, and bytes of a longer
 * one that this library does not know must be zero (else -EINVAL). Since 0.3. */
RSK_API int rsk_loop_init_size(rsk_loop* loop, size_t loop_size, const rsk_loop_options* options,
                               size_t options_size);
/* The exported rsk_loop_options_init() and rsk_loop_init() write and read
 * options as 0.2 laid them out (48 bytes, up to zero_copy_min_bytes), all
 * that a program built against 0.2 has; programs built against this header
 * call the _size functions through these macros, with the whole struct.
 * (&rsk_loop_init, or the name in parentheses, is still the function; a
 * binding that calls the functions by name should call the _size ones.)
 * Since 0.3. */
#define rsk_loop_options_init(options) \
  ((void)rsk_loop_options_init_size((options), sizeof(rsk_loop_options)))
#define rsk_loop_init(loop, loop_size, ...) \
  rsk_loop_init_size((loop), (loop_size), (__VA_ARGS__), sizeof(rsk_loop_options))
/* Releases everything the loop holds. Operations still in flight are
 * dropped without callbacks and stay marked in flight: rsk_op_init() them
 * before reuse. An rsk_close() still waiting for its fd's operations closes
 * the fd here. From a callback it takes effect when rsk_loop_run() returns,
 * and the storage is closed then. -EBUSY from a post callback of its own
 * close (which is under way). */
RSK_API int rsk_loop_close(rsk_loop* loop);

#define RSK_RUN_ONCE 0       /* wait for something, dispatch what is ready */
#define RSK_RUN_NOWAIT 1     /* dispatch what is ready, never wait */
#define RSK_RUN_UNTIL_DONE 2 /* until no operation is in flight, or stop */

/* Returns the number of callbacks made, or -errno (-EBUSY from a callback,
 * -EPERM from a thread that does not own the loop). */
RSK_API int rsk_loop_run(rsk_loop* loop, int mode);
/* Makes rsk_loop_run() return after the current turn. Loop thread only (-EPERM). */
RSK_API int rsk_loop_stop(rsk_loop* loop);
/* Wakes a waiting rsk_loop_run(); thread-safe and async-signal-safe. 0, or
 * -EINVAL (not initialised), -ESHUTDOWN (rsk_loop_close has begun): safe
 * against a close on the loop's thread, as long as the rsk_loop's storage
 * stays in place and is not initialised again while a wake may be under way. */
RSK_API int rsk_loop_wake(rsk_loop* loop);

/* RSK_BACKEND_URING or RSK_BACKEND_EPOLL (-EINVAL if not initialised). */
RSK_API int rsk_loop_backend(const rsk_loop* loop);
/* Why this backend runs (or why init failed), in words. Never NULL. */
RSK_API const char* rsk_loop_backend_reason(const rsk_loop* loop);
/* The kernel features found, as one line ("io_uring sq=256 cq=1024 ...").
 * Returns its length, or -ENOSPC (out gets "") when it does not fit. */
RSK_API int rsk_loop_capabilities(const rsk_loop* loop, char* out, size_t capacity);
/* Operations in flight (submitted, terminal callback not yet made). */
RSK_API int rsk_loop_active(const rsk_loop* loop);
/* Bytes per pool buffer. */
RSK_API int rsk_loop_buffer_size(const rsk_loop* loop);
/* Gives a pool buffer lent by a completion back; -EINVAL if it is not lent. */
RSK_API int rsk_loop_release_buffer(rsk_loop* loop, unsigned buffer_id);

/* sizeof the library's own storage types: compare with sizeof(rsk_loop) and
 * sizeof(rsk_op) to catch a header/library mismatch. */
RSK_API size_t rsk_loop_size(void);
RSK_API size_t rsk_op_size(void);
/* The alignment the library needs of rsk_loop and rsk_op storage (an FFI
 * that places them itself checks against these). Since 0.3. */
RSK_API size_t rsk_loop_align(void);
RSK_API size_t rsk_op_align(void);

/* ---- operations ---------------------------------------------------------- */

typedef struct rsk_op {
  RSK_ALIGNED(RSK_OP_ALIGN) unsigned char opaque[RSK_OP_SIZE];
} rsk_op;

/* A fresh operation: zeroed storage is one. */
#define RSK_OP_INIT {{0}}
/* Misaligned storage is left untouched (and refused by every later call). */
RSK_API void rsk_op_init(rsk_op* op);

/* What a callback receives for one result. */
typedef struct rsk_completion {
  int32_t result;     /* >= 0: bytes, fd, 0 for EOF or a fired timer; < 0: -errno */
  uint8_t more;       /* multishot: 1 while more results follow */
  uint8_t truncated;  /* the datagram was longer than the buffer */
  uint8_t has_buffer; /* data is a pool buffer: give it back with rsk_loop_release_buffer */
  uint16_t buffer_id;
  uint8_t* data;      /* multishot receives: `result` bytes */
  const struct sockaddr* peer; /* multishot recvfrom: the sender */
  socklen_t peer_length;
} rsk_completion;

typedef void (*rsk_callback)(rsk_loop* loop, rsk_op* op, const rsk_completion* completion);

RSK_API void* rsk_op_user_data(const rsk_op* op);
RSK_API int rsk_op_fd(const rsk_op* op);
/* A stream send (rsk_send, rsk_sendv): bytes that went out (exact even when
 * it failed midway). */
RSK_API uint32_t rsk_op_transferred(const rsk_op* op);
RSK_API int rsk_op_in_flight(const rsk_op* op);
/* The value of a post (rsk_post, rsk_post_to), in its callback and after it
 * until the op is submitted again. Since 0.3. */
RSK_API uint64_t rsk_op_post_value(const rsk_op* op);
/* A deadline for the next submits of this op, in nanoseconds after each
 * submit; 0 = none. On expiry the operation ends with -ETIMEDOUT. Not for
 * timers, nops, multishot operations or close (their submit gets -EINVAL). */
RSK_API int rsk_op_set_timeout(rsk_op* op, uint64_t timeout_ns);

/* Each returns 0 (the callback will come) or -errno (nothing happened):
 * -EINVAL bad arguments (misaligned storage too), -EPERM a thread that does
 * not own the loop, -EBUSY op in flight, -EBADF bad or closing fd,
 * -EOPNOTSUPP not possible here, -EAGAIN no room right now. */
RSK_API int rsk_accept(rsk_loop* loop, rsk_op* op, int listen_fd, rsk_endpoint* peer,
                       rsk_callback callback, void* user_data);
RSK_API int rsk_accept_multishot(rsk_loop* loop, rsk_op* op, int listen_fd,
                                 rsk_callback callback, void* user_data);
RSK_API int rsk_connect(rsk_loop* loop, rsk_op* op, int fd, const rsk_endpoint* peer,
                        rsk_callback callback, void* user_data);
/* Sends all `length` bytes (short sends continue); datagrams go whole. */
RSK_API int rsk_send(rsk_loop* loop, rsk_op* op, int fd, const void* data, size_t length,
                     rsk_callback callback, void* user_data);
RSK_API int rsk_recv(rsk_loop* loop, rsk_op* op, int fd, void* data, size_t length,
                     rsk_callback callback, void* user_data);
/* Streams: chunks in pool buffers until EOF, error or cancel. */
RSK_API int rsk_recv_multishot(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback,
                               void* user_data);
RSK_API int rsk_sendto(rsk_loop* loop, rsk_op* op, int fd, const void* data, size_t length,
                       const rsk_endpoint* peer, rsk_callback callback, void* user_data);
RSK_API int rsk_recvfrom(rsk_loop* loop, rsk_op* op, int fd, void* data, size_t length,
                         rsk_endpoint* peer, rsk_callback callback, void* user_data);
/* rsk_send of `count` pieces, in order, as one stream of bytes: nothing is
 * copied together, and a short send goes on from where it stopped (the op
 * keeps its place; the array is only read). The array and the memory it
 * names must outlive the operation; pieces of length 0 are allowed. Result
 * = the bytes of all pieces, or -errno with rsk_op_transferred() = the bytes
 * that went out. On a datagram socket: one datagram. -EINVAL for no array,
 * count 0 or above IOV_MAX (1024, never cut), a piece with no base and a
 * nonzero length, more than INT32_MAX bytes in all. Since 0.3. */
RSK_API int rsk_sendv(rsk_loop* loop, rsk_op* op, int fd, const struct iovec* pieces,
                      size_t count, rsk_callback callback, void* user_data);
/* rsk_sendto of `count` pieces: one datagram of them to `peer` (NULL on a
 * connected socket); the same checks as rsk_sendv. Since 0.3. */
RSK_API int rsk_sendtov(rsk_loop* loop, rsk_op* op, int fd, const struct iovec* pieces,
                        size_t count, const rsk_endpoint* peer, rsk_callback callback,
                        void* user_data);
/* Datagrams in pool buffers, each with its sender. */
RSK_API int rsk_recvfrom_multishot(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback,
                                   void* user_data);
RSK_API int rsk_shutdown(rsk_loop* loop, rsk_op* op, int fd, int how, rsk_callback callback,
                         void* user_data);
/* Cancel-safe close: cancels the fd's operations, waits for them, closes. */
RSK_API int rsk_close(rsk_loop* loop, rsk_op* op, int fd, rsk_callback callback,
                      void* user_data);
/* A timer: result 0 when it fires, -ECANCELED when cancelled. */
RSK_API int rsk_timeout(rsk_loop* loop, rsk_op* op, uint64_t timeout_ns, rsk_callback callback,
                        void* user_data);
RSK_API int rsk_nop(rsk_loop* loop, rsk_op* op, rsk_callback callback, void* user_data);
/* ---- hand-off between loops ---------------------------------------------- */

/* From ANY thread: `callback` runs on `loop`'s thread, inside its
 * rsk_loop_run(), with result 0 and `value` in rsk_op_post_value(op) (an fd,
 * a pointer). Exactly one callback per accepted post; one thread's posts
 * arrive in order; nothing is allocated (the queue's links are in op). Keep
 * op alive and leave it alone until its callback. Returns 0, or (nothing
 * done): -EINVAL no callback, misaligned op, an op with a deadline, or a loop
 * not initialised or closed; -EBUSY op in flight; -ESHUTDOWN the loop is
 * closing (rsk_loop_close has begun). A post accepted before the close began
 * is never lost: if rsk_loop_run() did not deliver it, rsk_loop_close()
 * calls it back with -ECANCELED (the value still readable, to release what
 * it names), and every call on that loop is refused in that callback. The
 * loop's storage must stay in place (closed is fine), and not be
 * initialised again, while others may post to it. rsk_loop_run(RSK_RUN_UNTIL_DONE) does not wait for posts not yet
 * arrived. A post cannot be cancelled (rsk_cancel: -EALREADY). Since 0.3. */
RSK_API int rsk_post(rsk_loop* loop, rsk_op* op, uint64_t value, rsk_callback callback,
                     void* user_data);
/* rsk_post to `target`, from `source`'s own thread (-EPERM from another):
 * between two io_uring loops on a kernel with IORING_OP_MSG_RING it goes
 * from ring to ring, with no eventfd write; otherwise it is rsk_post(target).
 * Results as rsk_post, and -EINVAL for a source not initialised. Should the
 * kernel fail the message (no memory, the target's thread gone), the
 * callback runs on `source` with that error instead. Since 0.3. */
RSK_API int rsk_post_to(rsk_loop* source, rsk_loop* target, rsk_op* op, uint64_t value,
                        rsk_callback callback, void* user_data);

/* Asks an operation to end: it completes once more with -ECANCELED or its
 * real result. Returns 0, -ENOENT (not in flight) or -EALREADY; never refused
 * for want of room (a cancel that finds the SQ full waits its turn). */
RSK_API int rsk_cancel(rsk_loop* loop, rsk_op* op);

#ifdef __cplusplus
}
#endif

#endif /* RINGSOCK_H */
