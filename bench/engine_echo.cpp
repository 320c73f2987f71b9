#include "engine_echo.hpp"

namespace bench {

namespace {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
using ringsock::RunMode;

EngineEcho& echo_of(Operation& op) { return *static_cast<EngineEcho*>(op.user_data); }

void fail(EngineEcho& e, const char* why) {
  if (e.error == nullptr) e.error = why;
}

void a_done(Loop&, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (c.result != int32_t(kMessageBytes)) fail(e, "side A: send/recv failed or short");
  --e.pending;
}

void b_received(Loop& loop, Operation& op, const Completion& c);

void b_sent(Loop& loop, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (c.result < 0) return fail(e, "side B: send failed");
  if (loop.recv(e.b_recv, e.pair.b, e.b_buffer, kMessageBytes, b_received, &e) != 0) {
    fail(e, "side B: recv refused");
  }
}

void b_received(Loop& loop, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (c.result <= 0) return fail(e, "side B: recv failed or EOF");
  if (loop.send(e.b_send, e.pair.b, e.b_buffer, size_t(c.result), b_sent, &e) != 0) {
    fail(e, "side B: send refused");
  }
}

// Multishot: B echoes the lent pool buffer and gives it back once sent.
void b_sent_lent(Loop& loop, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (c.result < 0) fail(e, "side B: send failed");
  if (loop.release_buffer(e.lent) != 0) fail(e, "side B: release_buffer refused");
}

void b_chunk(Loop& loop, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (!c.has_buffer) return fail(e, "side B: multishot recv ended or failed");
  e.lent = c.buffer_id;
  if (loop.send(e.b_send, e.pair.b, c.data, size_t(c.result), b_sent_lent, &e) != 0) {
    fail(e, "side B: send refused (a second chunk while echoing?)");
  }
}

void watchdog_fired(Loop& loop, Operation& op, const Completion& c) {
  EngineEcho& e = echo_of(op);
  if (c.result != 0) return;  // cancelled
  if (!e.stall.fire()) return fail(e, "stalled: no round trip for 5 s");
  if (loop.timeout(op, kWatchdogNs, watchdog_fired, &e) != 0) fail(e, "watchdog re-arm refused");
}

// Side A's send of this round, as e.framing says.
int a_send(EngineEcho& e) noexcept {
  switch (e.framing) {
    case Framing::whole:
      break;
    case Framing::copied:
      memcpy(e.a_out, e.header, kHeaderBytes);
      memcpy(e.a_out + kHeaderBytes, e.body, sizeof(e.body));
      break;
    case Framing::pieces:
      return e.loop.sendv(e.a_send, e.pair.a, e.pieces, 2, a_done, &e);
  }
  return e.loop.send(e.a_send, e.pair.a, e.a_out, kMessageBytes, a_done, &e);
}

}  // namespace

int setup_echo(EngineEcho& e, bool multishot) noexcept {
  if (e.pair.error < 0) return e.pair.error;
  fill_message(e.a_out);
  // The header and body hold the same bytes, so the echo checks them all.
  memcpy(e.header, e.a_out, kHeaderBytes);
  memcpy(e.body, e.a_out + kHeaderBytes, sizeof(e.body));
  e.pieces[0] = iovec{e.header, kHeaderBytes};
  e.pieces[1] = iovec{e.body, sizeof(e.body)};
  int rc = e.loop.init();
  if (rc == 0) rc = e.loop.timeout(e.watchdog, kWatchdogNs, watchdog_fired, &e);
  if (rc == 0 && multishot) rc = e.loop.recv_multishot(e.b_recv, e.pair.b, b_chunk, &e);
  if (rc == 0 && !multishot) {
    rc = e.loop.recv(e.b_recv, e.pair.b, e.b_buffer, kMessageBytes, b_received, &e);
  }
  return rc;
}

// B's side runs in its callbacks while A waits for its own two.
bool round_trip(EngineEcho& e) noexcept {
  e.pending = 2;
  if (e.loop.recv(e.a_recv, e.pair.a, e.a_in, kMessageBytes, a_done, &e) != 0 ||
      a_send(e) != 0) {
    fail(e, "side A: submit refused");
    return false;
  }
  while (e.pending != 0 && e.error == nullptr) {
    if (e.loop.run(RunMode::once) < 0) fail(e, "Loop::run failed");
  }
  ++e.stall.progress;
  return e.error == nullptr;
}

}  // namespace bench
