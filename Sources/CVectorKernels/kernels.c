#include "CVectorKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

// One vector's distance; `POPCOUNT` is the compiler's builtin, which becomes the instruction
// where the function's target has it and a portable bit-twiddling sequence where it does not.
#define HAMMING_LOOP(NAME, ATTRIBUTES)                                                               \
    ATTRIBUTES static void NAME(                                                                     \
        const uint64_t *bits, size_t words, const uint64_t *query, const int64_t *positions,        \
        size_t count, uint16_t *out) {                                                              \
        for (size_t i = 0; i < count; i++) {                                                         \
            const uint64_t *vector = bits + (size_t)(positions ? positions[i] : (int64_t)i) * words; \
            unsigned total = 0;                                                                      \
            for (size_t w = 0; w < words; w++) total += (unsigned)__builtin_popcountll(vector[w] ^ query[w]); \
            out[i] = (uint16_t)total;                                                                \
        }                                                                                            \
    }

HAMMING_LOOP(hamming_portable, )

#if defined(__x86_64__)
HAMMING_LOOP(hamming_popcnt, __attribute__((target("popcnt"))))

// Asked on every call (about a hundred cycles, once per search): no shared state to race on.
static int has_popcnt(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_POPCNT) ? 1 : 0;
}
#endif

int smollama_hamming_uses_popcount(void) {
#if defined(__x86_64__)
    return has_popcnt();
#elif defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

void smollama_hamming_distances(
    const uint64_t *bits, size_t words, const uint64_t *query, const int64_t *positions, size_t count,
    uint16_t *out) {
#if defined(__x86_64__)
    if (has_popcnt()) {
        hamming_popcnt(bits, words, query, positions, count, out);
        return;
    }
#endif
    hamming_portable(bits, words, query, positions, count, out);
}

void smollama_hamming_distances_portable(
    const uint64_t *bits, size_t words, const uint64_t *query, const int64_t *positions, size_t count,
    uint16_t *out) {
    hamming_portable(bits, words, query, positions, count, out);
}
