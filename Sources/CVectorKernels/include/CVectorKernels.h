// The inner loop of recall's in-memory vector index (RecallVectorIndex): Hamming distances of
// sign-bit vectors. In C because the fast form needs the CPU's popcount instruction, which
// x86-64's baseline (v1) lacks and Swift cannot enable for one function: here it is chosen at
// run time (CPUID) on x86-64, and is the baseline on arm64 (NEON `cnt`).
#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// For each of `count` vectors of `words` 64-bit words, the number of bits that differ from
/// `query`: vector `i` starts at `bits + positions[i] * words`, or at `bits + i * words` when
/// `positions` is NULL. Distances are written to `out[i]`.
void smollama_hamming_distances(
    const uint64_t *bits, size_t words, const uint64_t *query, const int64_t *positions, size_t count,
    uint16_t *out);

/// The same with the portable loop whatever the CPU has (so tests can compare both).
void smollama_hamming_distances_portable(
    const uint64_t *bits, size_t words, const uint64_t *query, const int64_t *positions, size_t count,
    uint16_t *out);

/// 1 when the popcount instruction is used (x86-64 with POPCNT, or arm64), 0 for the portable loop.
int smollama_hamming_uses_popcount(void);

#endif
