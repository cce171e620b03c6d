#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace tern::xml::detail {

// A stack that keeps its first N entries inside the object and spills to the heap only past that, so
// typical stanzas cost no allocation.
template <class T, std::size_t N>
class InlineStack {
public:
    void push_back(const T& v)
    {
        if (size_ < N) [[likely]]
            inline_[size_] = v;
        else
            spill(v);
        ++size_;
    }
    // Appends a default entry and returns it, so callers fill fields in place (building a temporary and
    // copying it costs a store-forwarding stall on this hot path).
    T& push_slot()
    {
        ++size_;
        if (size_ <= N) [[likely]]
            return inline_[size_ - 1];
        return spill_slot();
    }
    void pop_back() noexcept
    {
        --size_;
        if (size_ >= N) spill_.pop_back();
    }
    T& operator[](std::size_t i) noexcept { return i < N ? inline_[i] : spill_[i - N]; }
    const T& operator[](std::size_t i) const noexcept { return i < N ? inline_[i] : spill_[i - N]; }
    T& back() noexcept { return (*this)[size_ - 1]; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept
    {
        size_ = 0;
        spill_.clear();
    }
    std::size_t heap_bytes() const noexcept { return spill_.capacity() * sizeof(T); }

private:
    [[gnu::noinline]] void spill(const T& v) { spill_.push_back(v); }
    [[gnu::noinline]] T& spill_slot() { return spill_.emplace_back(); }

    std::array<T, N> inline_{};
    std::vector<T> spill_;
    std::size_t size_ = 0;
};

}  // namespace tern::xml::detail
