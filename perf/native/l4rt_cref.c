// L4Rt C reference baselines: the fast, obvious implementations a systems programmer would write,
// measured the same way as the .NET harness (two real processes, a shared mapping, per-iteration
// CLOCK_MONOTONIC timing for round trips). See README.md here and ../../../shared/PERF.md.
//
//   l4rt_cref spin-rtt  [--iterations N] [--warmup N] [--rounds R]
//   l4rt_cref futex-rtt [--iterations N] [--warmup N] [--rounds R]
//   l4rt_cref spsc-zc   [--record BYTES] [--ring BYTES] [--messages N] [--rounds R]
//   l4rt_cref spsc-copy [--record BYTES] [--ring BYTES] [--messages N] [--rounds R]
//
// Prints one JSON line; exits non-zero on any failure (including a checksum mismatch).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define CPU_RELAX() do { } while (0)
#endif

#define LINE 64

typedef struct { _Alignas(LINE) _Atomic uint32_t value; char pad[LINE - sizeof(uint32_t)]; } line_u32;
typedef struct { _Alignas(LINE) _Atomic uint64_t value; char pad[LINE - sizeof(uint64_t)]; } line_u64;

static long opt(int argc, char **argv, const char *name, long fallback) {
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return strtol(argv[i + 1], NULL, 10);
    return fallback;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *shared_map(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    return p;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val) {
    // Not FUTEX_PRIVATE_FLAG: the word is shared between processes.
    return syscall(SYS_futex, (uint32_t *)addr, op, val, NULL, NULL, 0);
}

static pid_t fork_child(void) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(2); }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   // never outlive the parent
        if (getppid() != parent) _exit(3);
    }
    return pid;
}

static void reap(pid_t child) {
    int status;
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child failed\n");
        exit(2);
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *sorted, size_t n, double p) {
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank, hi = lo + 1 < n ? lo + 1 : lo;
    return (double)sorted[lo] + ((double)sorted[hi] - (double)sorted[lo]) * (rank - (double)lo);
}

// ---------------------------------------------------------------- ping-pong (RTT)

typedef struct { line_u32 ping; line_u32 pong; line_u32 stop; } pingpong;

// Waits until *w == want. Spinning side: pause in the loop, with a liveness check so a dead partner
// cannot leave us spinning forever. Futex side: FUTEX_WAIT on the value seen.
static int await_value(_Atomic uint32_t *w, uint32_t want, int use_futex, _Atomic uint32_t *stop) {
    uint64_t spins = 0;
    for (;;) {
        uint32_t v = atomic_load_explicit(w, memory_order_acquire);
        if (v == want) return 1;
        if (atomic_load_explicit(stop, memory_order_relaxed)) return 0;
        if (use_futex) {
            futex(w, FUTEX_WAIT, v);
        } else {
            CPU_RELAX();
            if (++spins % (1u << 24) == 0 && getppid() == 1) return 0;
        }
    }
}

static int run_rtt(int argc, char **argv, int use_futex) {
    long iterations = opt(argc, argv, "--iterations", 200000);
    long warmup = opt(argc, argv, "--warmup", 20000);
    long rounds = opt(argc, argv, "--rounds", 5);
    pingpong *pp = shared_map(sizeof(pingpong));
    pid_t child = fork_child();
    if (child == 0) {
        // Echo: answer every ping with the same sequence number.
        for (uint32_t seq = 1;; seq++) {
            if (!await_value(&pp->ping.value, seq, use_futex, &pp->stop.value)) _exit(0);
            atomic_store_explicit(&pp->pong.value, seq, memory_order_release);
            if (use_futex) futex(&pp->pong.value, FUTEX_WAKE, 1);
        }
    }

    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(iterations * rounds));
    double *round_medians = malloc(sizeof(double) * (size_t)rounds);
    uint64_t *scratch = malloc(sizeof(uint64_t) * (size_t)iterations);
    uint32_t seq = 0;
    for (long r = 0; r < rounds; r++) {
        for (long i = -warmup; i < iterations; i++) {
            uint64_t start = now_ns();
            seq++;
            atomic_store_explicit(&pp->ping.value, seq, memory_order_release);
            if (use_futex) futex(&pp->ping.value, FUTEX_WAKE, 1);
            if (!await_value(&pp->pong.value, seq, use_futex, &pp->stop.value)) { fprintf(stderr, "partner gone\n"); return 2; }
            uint64_t end = now_ns();
            if (i >= 0) { samples[r * iterations + i] = end - start; scratch[i] = end - start; }
        }
        qsort(scratch, (size_t)iterations, sizeof(uint64_t), cmp_u64);
        round_medians[r] = pct(scratch, (size_t)iterations, 50);
        warmup = 0;
    }

    atomic_store(&pp->stop.value, 1);
    atomic_store(&pp->ping.value, seq + 12345);   // wake the child out of its wait
    futex(&pp->ping.value, FUTEX_WAKE, 1);
    reap(child);

    size_t n = (size_t)(iterations * rounds);
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += (double)samples[i];
    mean /= (double)n;
    qsort(samples, n, sizeof(uint64_t), cmp_u64);
    printf("{\"mode\":\"%s\",\"unit\":\"ns\",\"median\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"min\":%llu,\"mean\":%.1f,\"samples\":%zu,\"rounds\":[",
           use_futex ? "futex-rtt" : "spin-rtt", pct(samples, n, 50), pct(samples, n, 99), pct(samples, n, 99.9),
           (unsigned long long)samples[0], mean, n);
    for (long r = 0; r < rounds; r++) printf("%s%.1f", r ? "," : "", round_medians[r]);
    printf("]}\n");
    return 0;
}

// ---------------------------------------------------------------- SPSC ring (throughput)

// Positions grow without bound; offset = position % ring. A record is an 8-byte length followed by its payload
// padded to 8; it never straddles the end: when it does not fit, a padding marker fills the rest and the record
// starts at offset 0. The producer publishes a record by storing tail last (release); the consumer frees it by
// storing head (release) after it has read the payload.
typedef struct {
    line_u64 head;      // written by the consumer
    line_u64 tail;      // written by the producer
    line_u32 go;        // round number the producer should run
    line_u32 stop;
} ring_ctl;

#define PADDING UINT64_MAX

static inline uint64_t align8(uint64_t x) { return (x + 7) & ~7ull; }

static int run_spsc(int argc, char **argv, int zero_copy) {
    long record = opt(argc, argv, "--record", 64);
    long ring = opt(argc, argv, "--ring", 1 << 20);
    long rounds = opt(argc, argv, "--rounds", 5);
    long def = (1l << 30) / record;
    if (def > 5000000) def = 5000000;
    long messages = opt(argc, argv, "--messages", def);
    if (record < 8 || record % 8 != 0 || ring % 8 != 0 || align8((uint64_t)record) + 8 > (uint64_t)ring) {
        fprintf(stderr, "record must be a multiple of 8 (>= 8) and fit the ring\n");
        return 2;
    }

    ring_ctl *ctl = shared_map(sizeof(ring_ctl));
    uint8_t *data = shared_map((size_t)ring);
    memset(data, 0, (size_t)ring);   // fault the pages in before timing
    const uint64_t need = 8 + align8((uint64_t)record);
    const uint64_t words = (uint64_t)record / 8;

    pid_t child = fork_child();
    if (child == 0) {
        uint64_t *prepared = malloc((size_t)record);
        uint64_t tail = 0, head_cache = 0;
        for (uint32_t round = 1;; round++) {
            if (!await_value(&ctl->go.value, round, 0, &ctl->stop.value)) _exit(0);
            for (long m = 0; m < messages; m++) {
                uint64_t seq = (uint64_t)round * 1000000007ull + (uint64_t)m;
                uint64_t off = tail % (uint64_t)ring;
                uint64_t pad = off + need > (uint64_t)ring ? (uint64_t)ring - off : 0;
                while (tail + pad + need - head_cache > (uint64_t)ring) {
                    head_cache = atomic_load_explicit(&ctl->head.value, memory_order_acquire);
                    if (tail + pad + need - head_cache > (uint64_t)ring) CPU_RELAX();
                }
                if (pad) {
                    *(uint64_t *)(data + off) = PADDING;
                    tail += pad;
                    off = 0;
                }
                uint64_t *payload = (uint64_t *)(data + off + 8);
                if (zero_copy) {
                    for (uint64_t w = 0; w < words; w++) payload[w] = seq ^ w;
                } else {
                    for (uint64_t w = 0; w < words; w++) prepared[w] = seq ^ w;  // the record the application had ready
                    memcpy(payload, prepared, (size_t)record);
                }
                *(uint64_t *)(data + off) = (uint64_t)record;
                tail += need;
                atomic_store_explicit(&ctl->tail.value, tail, memory_order_release);
            }
        }
    }

    uint64_t *out = malloc((size_t)record);
    double *rate = malloc(sizeof(double) * (size_t)rounds), *gbps = malloc(sizeof(double) * (size_t)rounds);
    uint64_t head = 0, tail_cache = 0;
    int ok = 1;
    for (uint32_t round = 1; round <= (uint32_t)rounds; round++) {
        atomic_store_explicit(&ctl->go.value, round, memory_order_release);
        uint64_t sum = 0, expected = 0, start = 0;
        for (long m = 0; m < messages; m++) {
            for (;;) {
                while (head == tail_cache) {
                    tail_cache = atomic_load_explicit(&ctl->tail.value, memory_order_acquire);
                    if (head == tail_cache) CPU_RELAX();
                }
                uint64_t off = head % (uint64_t)ring;
                uint64_t len = *(uint64_t *)(data + off);
                if (len == PADDING) { head += (uint64_t)ring - off; continue; }
                if (m == 0) start = now_ns();
                const uint64_t *payload = (const uint64_t *)(data + off + 8);
                if (zero_copy) {
                    for (uint64_t w = 0; w < words; w++) sum += payload[w];
                } else {
                    memcpy(out, payload, (size_t)len);
                    sum += out[0] + out[words - 1];
                }
                head += need;
                atomic_store_explicit(&ctl->head.value, head, memory_order_release);
                break;
            }
            uint64_t seq = (uint64_t)round * 1000000007ull + (uint64_t)m;
            if (zero_copy) { for (uint64_t w = 0; w < words; w++) expected += seq ^ w; }
            else expected += seq + (seq ^ (words - 1));
        }
        uint64_t elapsed = now_ns() - start;
        ok &= sum == expected;
        rate[round - 1] = (double)(messages - 1) * 1e9 / (double)elapsed;
        gbps[round - 1] = rate[round - 1] * (double)record / 1e9;
    }

    atomic_store(&ctl->stop.value, 1);
    reap(child);

    double sorted_rate[64], sorted_gbps[64];
    long k = rounds < 64 ? rounds : 64;
    memcpy(sorted_rate, rate, sizeof(double) * (size_t)k);
    memcpy(sorted_gbps, gbps, sizeof(double) * (size_t)k);
    for (long i = 0; i < k; i++)
        for (long j = i + 1; j < k; j++) {
            if (sorted_rate[j] < sorted_rate[i]) { double t = sorted_rate[i]; sorted_rate[i] = sorted_rate[j]; sorted_rate[j] = t; }
            if (sorted_gbps[j] < sorted_gbps[i]) { double t = sorted_gbps[i]; sorted_gbps[i] = sorted_gbps[j]; sorted_gbps[j] = t; }
        }
    printf("{\"mode\":\"%s\",\"record\":%ld,\"ring\":%ld,\"messages\":%ld,\"msgs_per_s\":%.1f,\"gbps\":%.4f,\"rounds_msgs_per_s\":[",
           zero_copy ? "spsc-zc" : "spsc-copy", record, ring, messages, sorted_rate[k / 2], sorted_gbps[k / 2]);
    for (long r = 0; r < rounds; r++) printf("%s%.1f", r ? "," : "", rate[r]);
    printf("],\"rounds_gbps\":[");
    for (long r = 0; r < rounds; r++) printf("%s%.4f", r ? "," : "", gbps[r]);
    printf("],\"checksum_ok\":%s}\n", ok ? "true" : "false");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s spin-rtt|futex-rtt|spsc-zc|spsc-copy [options]\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "spin-rtt") == 0) return run_rtt(argc, argv, 0);
    if (strcmp(argv[1], "futex-rtt") == 0) return run_rtt(argc, argv, 1);
    if (strcmp(argv[1], "spsc-zc") == 0) return run_spsc(argc, argv, 1);
    if (strcmp(argv[1], "spsc-copy") == 0) return run_spsc(argc, argv, 0);
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
