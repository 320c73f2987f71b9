#include "logic/interval_recorder.hpp"

#include <algorithm>
#include <stdexcept>

namespace ringsock::tool {

IntervalRecorder::IntervalRecorder(std::size_t metrics, std::uint64_t start_ns,
                                   std::uint64_t interval_ns, std::size_t slots,
                                   std::uint64_t highest_trackable_ns)
    : start_ns_(start_ns), interval_ns_(interval_ns) {
  if (metrics == 0 || interval_ns == 0 || slots < 2)
    throw std::invalid_argument("IntervalRecorder: metrics, interval and 2 slots needed");
  slots_.resize(slots);
  for (auto& s : slots_) s.metrics.assign(metrics, Histogram(highest_trackable_ns));
}

std::uint64_t IntervalRecorder::index_of(std::uint64_t now_ns) const noexcept {
  return now_ns <= start_ns_ ? 0 : (now_ns - start_ns_) / interval_ns_;
}

// Publishes the held slot if the ring has room; then the next values start a
// slot at next_index. False (the slot stays held) when the ring is full.
bool IntervalRecorder::hand_over(std::uint64_t next_index) noexcept {
  if (produced_ + 1 - consumed_.load(std::memory_order_acquire) >= slots_.size()) return false;
  ++produced_;
  published_.store(produced_, std::memory_order_release);
  holding_ = false;
  passed_.store(next_index, std::memory_order_release);
  return true;
}

void IntervalRecorder::roll(std::uint64_t now_ns) noexcept {
  const std::uint64_t k = index_of(now_ns);
  if (holding_) {
    IntervalSlot& s = slot(produced_);
    if (k > s.last && !hand_over(k)) return;
  }
  // Nothing held: every interval before k is over (and empty here).
  if (!holding_) passed_.store(std::max(passed_.load(std::memory_order_relaxed), k),
                               std::memory_order_release);
}

void IntervalRecorder::record(std::size_t metric, std::uint64_t now_ns, std::uint64_t value) noexcept {
  roll(now_ns);
  IntervalSlot& s = slot(produced_);
  const std::uint64_t k = index_of(now_ns);
  if (!holding_) {
    // The consumer reset this slot's histograms before releasing it.
    s.first = s.last = k;
    holding_ = true;
  }
  s.last = std::max(s.last, k);
  s.metrics[metric].record(value);
}

void IntervalRecorder::finish() noexcept {
  // With the ring full, the held slot is left for the collector to read
  // after finished() (it is never written again); no waiting here.
  if (holding_ && !hand_over(slot(produced_).last + 1)) tail_held_ = true;
  passed_.store(UINT64_MAX, std::memory_order_release);
  finished_.store(true, std::memory_order_release);
}

const IntervalSlot* IntervalRecorder::peek() const noexcept {
  const std::uint64_t c = consumed_.load(std::memory_order_relaxed);
  const std::uint64_t p = published_.load(std::memory_order_acquire);
  if (c < p) return &slots_[c % slots_.size()];
  if (c == p && finished_.load(std::memory_order_acquire) && tail_held_)
    return &slots_[c % slots_.size()];
  return nullptr;
}

void IntervalRecorder::release() noexcept {
  const std::uint64_t c = consumed_.load(std::memory_order_relaxed);
  for (Histogram& h : slots_[c % slots_.size()].metrics) h.reset();
  consumed_.store(c + 1, std::memory_order_release);
}

IntervalCollector::IntervalCollector(std::vector<IntervalRecorder*> recorders, std::size_t metrics,
                                     std::uint64_t highest_trackable_ns)
    : recorders_(std::move(recorders)), metrics_(metrics), highest_(highest_trackable_ns) {}

void IntervalCollector::take(const Emit& emit, bool all) {
  std::uint64_t complete = UINT64_MAX;  // every interval before it is complete
  for (IntervalRecorder* r : recorders_) {
    // passed() first: a slot published after this read is taken next time.
    complete = std::min(complete, r->passed());
    for (const IntervalSlot* s = r->peek(); s != nullptr; s = r->peek()) {
      auto [it, fresh] = pending_.try_emplace(s->first);
      if (fresh) it->second.metrics.assign(metrics_, Histogram(highest_));
      it->second.last = std::max(it->second.last, s->last);
      for (std::size_t m = 0; m < metrics_; ++m) it->second.metrics[m].merge(s->metrics[m]);
      r->release();
    }
  }
  while (!pending_.empty()) {
    auto it = pending_.begin();
    if (!all && it->second.last >= complete) break;
    emit(it->first, it->second.last, it->second.metrics);
    pending_.erase(it);
  }
}

void IntervalCollector::poll(const Emit& emit) { take(emit, false); }

void IntervalCollector::drain(const Emit& emit) { take(emit, true); }

}  // namespace ringsock::tool
