/* ringsock.h as C11 with -pedantic: compiled by the build, never run. Takes
 * the address of every function the header declares, with its exact type. */
#include "ringsock.h"

_Static_assert(sizeof(rsk_loop) == RSK_LOOP_SIZE, "rsk_loop size");
_Static_assert(sizeof(rsk_op) == RSK_OP_SIZE, "rsk_op size");
_Static_assert(_Alignof(rsk_loop) >= RSK_LOOP_ALIGN, "rsk_loop alignment");
_Static_assert(_Alignof(rsk_op) >= RSK_OP_ALIGN, "rsk_op alignment");
_Static_assert(RSK_VERSION == RSK_MAKE_VERSION(RSK_VERSION_MAJOR, RSK_VERSION_MINOR,
                                               RSK_VERSION_PATCH), "version");

struct rsk_header_functions {
  const char* (*strerror_)(int);
  uint32_t (*version)(void);
  const char* (*version_string)(void);
  int (*endpoint_parse)(const char*, rsk_endpoint*, const char**);
  int (*endpoint_format)(const rsk_endpoint*, char*, size_t);
  int (*listen_)(const rsk_endpoint*, int, unsigned);
  int (*socket_)(const rsk_endpoint*);
  int (*bind_datagram)(const rsk_endpoint*, unsigned);
  int (*connect_datagram)(const rsk_endpoint*, const rsk_endpoint*);
  int (*local_endpoint)(int, int, rsk_endpoint*);
  int (*set_nodelay)(int, int);
  int (*set_buffer_sizes)(int, int, int);
  int (*set_linger_reset)(int);
  void (*loop_options_init)(rsk_loop_options*);
  int (*loop_init)(rsk_loop*, size_t, const rsk_loop_options*);
  int (*loop_close)(rsk_loop*);
  int (*loop_run)(rsk_loop*, int);
  int (*loop_stop)(rsk_loop*);
  int (*loop_wake)(rsk_loop*);
  int (*loop_backend)(const rsk_loop*);
  const char* (*loop_backend_reason)(const rsk_loop*);
  int (*loop_capabilities)(const rsk_loop*, char*, size_t);
  int (*loop_active)(const rsk_loop*);
  int (*loop_buffer_size)(const rsk_loop*);
  int (*loop_release_buffer)(rsk_loop*, unsigned);
  size_t (*loop_size)(void);
  size_t (*op_size)(void);
  void (*op_init)(rsk_op*);
  void* (*op_user_data)(const rsk_op*);
  int (*op_fd)(const rsk_op*);
  uint32_t (*op_transferred)(const rsk_op*);
  int (*op_in_flight)(const rsk_op*);
  int (*op_set_timeout)(rsk_op*, uint64_t);
  int (*accept_)(rsk_loop*, rsk_op*, int, rsk_endpoint*, rsk_callback, void*);
  int (*accept_multishot)(rsk_loop*, rsk_op*, int, rsk_callback, void*);
  int (*connect_)(rsk_loop*, rsk_op*, int, const rsk_endpoint*, rsk_callback, void*);
  int (*send_)(rsk_loop*, rsk_op*, int, const void*, size_t, rsk_callback, void*);
  int (*recv_)(rsk_loop*, rsk_op*, int, void*, size_t, rsk_callback, void*);
  int (*recv_multishot)(rsk_loop*, rsk_op*, int, rsk_callback, void*);
  int (*sendto_)(rsk_loop*, rsk_op*, int, const void*, size_t, const rsk_endpoint*, rsk_callback,
                 void*);
  int (*recvfrom_)(rsk_loop*, rsk_op*, int, void*, size_t, rsk_endpoint*, rsk_callback, void*);
  int (*recvfrom_multishot)(rsk_loop*, rsk_op*, int, rsk_callback, void*);
  int (*shutdown_)(rsk_loop*, rsk_op*, int, int, rsk_callback, void*);
  int (*close_)(rsk_loop*, rsk_op*, int, rsk_callback, void*);
  int (*timeout)(rsk_loop*, rsk_op*, uint64_t, rsk_callback, void*);
  int (*nop)(rsk_loop*, rsk_op*, rsk_callback, void*);
  int (*cancel)(rsk_loop*, rsk_op*);
  int (*sendv)(rsk_loop*, rsk_op*, int, const struct iovec*, size_t, rsk_callback, void*);
  int (*sendtov)(rsk_loop*, rsk_op*, int, const struct iovec*, size_t, const rsk_endpoint*,
                 rsk_callback, void*);
};

extern const struct rsk_header_functions rsk_header_c11_functions;
const struct rsk_header_functions rsk_header_c11_functions = {
    rsk_strerror, rsk_version, rsk_version_string, rsk_endpoint_parse, rsk_endpoint_format,
    rsk_listen, rsk_socket, rsk_bind_datagram, rsk_connect_datagram, rsk_local_endpoint,
    rsk_set_nodelay, rsk_set_buffer_sizes, rsk_set_linger_reset, rsk_loop_options_init,
    rsk_loop_init, rsk_loop_close, rsk_loop_run, rsk_loop_stop, rsk_loop_wake, rsk_loop_backend,
    rsk_loop_backend_reason, rsk_loop_capabilities, rsk_loop_active, rsk_loop_buffer_size,
    rsk_loop_release_buffer, rsk_loop_size, rsk_op_size, rsk_op_init, rsk_op_user_data,
    rsk_op_fd, rsk_op_transferred, rsk_op_in_flight, rsk_op_set_timeout, rsk_accept,
    rsk_accept_multishot, rsk_connect, rsk_send, rsk_recv, rsk_recv_multishot, rsk_sendto,
    rsk_recvfrom, rsk_recvfrom_multishot, rsk_shutdown, rsk_close, rsk_timeout, rsk_nop,
    rsk_cancel, rsk_sendv, rsk_sendtov,
};

/* Caller storage in a caller's struct, zero-initialised the C11 way. */
struct rsk_header_c11_conn {
  char tag;
  rsk_op recv;
  rsk_op send;
};
_Static_assert(_Alignof(struct rsk_header_c11_conn) >= RSK_OP_ALIGN, "embedded op alignment");
extern struct rsk_header_c11_conn rsk_header_c11_conn;
struct rsk_header_c11_conn rsk_header_c11_conn = {0, RSK_OP_INIT, RSK_OP_INIT};
