// Open-addressing hash tables keyed by 64-bit pattern keys, for the CMVM greedy (private).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hgqc::backend::cmvm {

/// The capacity that clear() shrinks a table to when it is larger (the table held at most
/// `peak` keys since the last clear(), and grows at a quarter or half full): 8 slots per
/// key, a power of two, at least `initial`.
inline size_t fitted_capacity(size_t peak, size_t initial) {
  return std::max(initial, std::bit_ceil(std::max<size_t>(8 * peak, 1)));
}

/// Counts per 64-bit key (open addressing, linear probing, backward-shift deletion, at most a
/// quarter full: short probes): the pattern counts, looked up far more often than anything
/// else. Never iterated.
class CountMap {
public:
  CountMap() : slots_(kInitial) {}

  /// The count of `key` (0 when absent).
  int get(uint64_t key) const {
    for (size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == kEmpty)
        return 0;
      if (slots_[i].key == key)
        return slots_[i].count;
    }
  }

  /// Adds `delta` to the count of `key` (dropping it at 0); returns the new count. With
  /// `mark` != 0, `*fresh` tells whether the key's mark differed from `mark` (it is then
  /// set): a key is reported once per mark while it stays in the map.
  int add(uint64_t key, int delta, uint32_t mark = 0, bool *fresh = nullptr) {
    size_t i = index(key);
    for (; slots_[i].key != kEmpty; i = (i + 1) & (slots_.size() - 1))
      if (slots_[i].key == key)
        break;
    if (slots_[i].key == kEmpty) {
      if (delta == 0)
        return 0;
      if (4 * (size_ + 1) > slots_.size()) {
        grow();
        return add(key, delta, mark, fresh);
      }
      slots_[i] = Slot{key, 0, 0};
      peak_ = std::max(peak_, ++size_);
    }
    if (mark != 0) {
      *fresh = slots_[i].mark != mark;
      slots_[i].mark = mark;
    }
    const int c = slots_[i].count += delta;
    if (c == 0)
      erase_at(i);
    return c;
  }

  /// Removes every key and mark. The memory is kept unless the table is much larger than
  /// its use since the last clear() needed.
  void clear() {
    const size_t want = fitted_capacity(peak_, kInitial);
    if (want < slots_.size())
      slots_ = std::vector<Slot>(want);
    else
      std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
    peak_ = 0;
  }

private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kInitial = 1024;
  struct Slot {
    uint64_t key = kEmpty;
    int count = 0;
    uint32_t mark = 0;
  };

  size_t index(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return static_cast<size_t>(h) & (slots_.size() - 1);
  }

  void erase_at(size_t i) {
    const size_t mask = slots_.size() - 1;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j].key == kEmpty)
        break;
      const size_t home = index(slots_[j].key);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot &s : old)
      if (s.key != kEmpty) {
        bool fresh = false;
        add(s.key, s.count, s.mark, &fresh);
      }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t peak_ = 0; ///< most keys held since the last clear()
};

/// A map from 64-bit keys (not all ones) to `V` (open addressing, linear probing, no
/// deletion), for the greedy's per-pattern records. Never iterated.
template <class V> class FlatMap {
public:
  FlatMap() : slots_(kInitial) {}

  /// The value of `key`, or nullptr.
  V *find(uint64_t key) {
    for (size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].key == kEmpty)
        return nullptr;
      if (slots_[i].key == key)
        return &slots_[i].value;
    }
  }
  const V *find(uint64_t key) const { return const_cast<FlatMap *>(this)->find(key); }

  /// The value of `key`, inserted (value-initialised) when absent.
  V &operator[](uint64_t key) {
    if (V *v = find(key))
      return *v;
    if (2 * (size_ + 1) > slots_.size())
      grow();
    size_t i = index(key);
    while (slots_[i].key != kEmpty)
      i = (i + 1) & (slots_.size() - 1);
    slots_[i].key = key;
    ++size_;
    return slots_[i].value;
  }

  /// Removes every key. The memory is kept unless the table is much larger than its use
  /// since the last clear() needed.
  void clear() {
    const size_t want = fitted_capacity(size_, kInitial);
    if (want < slots_.size())
      slots_ = std::vector<Slot>(want);
    else
      for (Slot &s : slots_)
        if (s.key != kEmpty)
          s = Slot{};
    size_ = 0;
  }

private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr size_t kInitial = 256;
  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };

  size_t index(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return static_cast<size_t>(h) & (slots_.size() - 1);
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (Slot &s : old)
      if (s.key != kEmpty)
        (*this)[s.key] = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

} // namespace hgqc::backend::cmvm
