/* The test cases of c_abi_tests (see main.c for the table). */
#ifndef RINGSOCK_C_TEST_CASES_H
#define RINGSOCK_C_TEST_CASES_H

/* version_test.c */
int test_version(int backend);
int test_strerror(int backend);

/* bad_input_test.c */
int test_endpoint_roundtrip(int backend);
int test_bad_urls(int backend);
int test_bad_endpoint_args(int backend);
int test_bad_socket_setup(int backend);
int test_bad_loop_init(int backend);
int test_zeroed_loop(int backend);
int test_bad_ops(int backend);
int test_busy_op(int backend);
int test_refused_submit(int backend);

/* echo_test.c */
int test_echo_tcp(int backend);
int test_echo_udp(int backend);
int test_echo_unix(int backend);
int test_echo_unix_dgram(int backend);

/* loop_test.c */
int test_timer(int backend);
int test_deadline(int backend);
int test_cancel(int backend);
int test_wake(int backend);
int test_stop(int backend);
int test_loop_info(int backend);
int test_close_in_callback(int backend);

/* misuse_test.c */
int test_misaligned_storage(int backend);
int test_foreign_thread(int backend);
int test_options_size(int backend);
int test_loop_refusals(int backend);

/* zero_copy_test.c */
int test_zero_copy(int backend);

/* sendv_test.c */
int test_sendv_stream(int backend);
int test_sendtov_dgram(int backend);
int test_sendv_refused(int backend);
/* sq_full_test.c */
int test_close_sq_full(int backend);

/* post_test.c */
int test_post_threads(int backend);
int test_post_close(int backend);
int test_post_to(int backend);

/* direct_test.c */
int test_direct_descriptors(int backend);

#endif
