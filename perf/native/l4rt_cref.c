// L4Rt C reference baselines: the fast, obvious implementations a systems programmer would write,
// built with `cc -O2` and measured the way the .NET harness measures L4Rt (two real processes sharing
// a mapping, CLOCK_MONOTONIC around every round trip, ring throughput timed at the consumer).
// See README.md here and /work/shared/PERF.md ("Baselines, defined so that they are honest").
//
//   l4rt_cref spin-rtt  [--iterations N] [--warmup N] [--rounds R]
//   l4rt_cref futex-rtt [--iterations N] [--warmup N] [--rounds R]
//   l4rt_cref words-rtt [--words W] [--iterations N] [--warmup N] [--rounds R]
//   l4rt_cref idle-wake [--iterations N] [--warmup N] [--rounds R] [--idle-us U]
//   l4rt_cref spsc-zc   [--record BYTES] [--ring BYTES] [--messages N] [--warmup N] [--rounds R]
//   l4rt_cref spsc-copy [--record BYTES] [--ring BYTES] [--messages N] [--warmup N] [--rounds R]
//
// Prints exactly one JSON line on stdout. Exit status: 0 success, 1 checksum mismatch, 2 usage or
// system error (including a partner process that died).
//
// Process hygiene: the parent forks one child; the child gets SIGKILL when the parent dies
// (PR_SET_PDEATHSIG); the parent learns of the child's death from SIGCHLD, which raises the shared stop
// word and poisons the word the parent may be waiting on; every spin loop re-checks liveness every
// 2^20 spins; the parent always reaps the child.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#if defined(__x86_64__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

// Hot words sit on their own 64-byte line, and 128 bytes apart: Intel's spatial prefetcher pulls
// lines in 128-byte pairs, so merely separate neighbouring lines can still bounce together.
#define SLOT 128

// A value no sequence number reaches; storing it into a word someone waits on makes the wait give up.
#define POISON UINT32_MAX

// How often a spin loop looks for a dead partner (a getppid() in the child, so not every spin).
#define LIVENESS_SPINS (1u << 20)

static pid_t g_parent;                       // the parent's pid, as the child must see it from getppid()
static bool g_is_child;
static pid_t g_child;                        // in the parent: the child to kill and reap on failure
static _Atomic uint32_t *g_stop;             // shared stop word of the running mode
static _Atomic uint32_t *g_parent_waits_on;  // the word the parent may sleep on, poisoned when the child dies

// ---------------------------------------------------------------------------------------------- basics

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// Gives up: in the parent the child is killed and reaped first, so nothing is left behind.
static _Noreturn void fail(const char *what) {
    fprintf(stderr, "l4rt_cref: %s\n", what);
    if (g_is_child) _exit(2);
    if (g_child > 0) {
        kill(g_child, SIGKILL);
        while (waitpid(g_child, NULL, 0) < 0 && errno == EINTR) { }
    }
    exit(2);
}

static void *shared_map(size_t size) {
    // Anonymous shared memory: after fork both processes map the same pages.
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("mmap failed");
    memset(p, 0, size);   // fault the pages in here rather than inside a measurement
    return p;
}

// Non-private futex operations: the word lives in memory shared between two processes.
static void futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void on_sigchld(int sig) {
    (void)sig;
    // Lock-free atomic stores are async-signal-safe. Poisoning the word (rather than only raising the
    // stop flag) closes the race with a FUTEX_WAIT about to start: the kernel sees a changed value.
    if (g_stop) atomic_store(g_stop, 1);
    if (g_parent_waits_on) atomic_store(g_parent_waits_on, POISON);
}

static bool partner_gone(void) {
    if (atomic_load_explicit(g_stop, memory_order_relaxed)) return true;
    return g_is_child && getppid() != g_parent;
}

static pid_t fork_child(_Atomic uint32_t *stop, _Atomic uint32_t *parent_waits_on) {
    g_stop = stop;
    g_parent_waits_on = parent_waits_on;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;   // no SA_RESTART: a FUTEX_WAIT in progress must return EINTR
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) != 0) fail("sigaction failed");

    g_parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail("fork failed");
    if (pid == 0) {
        g_is_child = true;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != g_parent) _exit(2);   // the parent died before the line above took effect
    } else {
        g_child = pid;
    }
    return pid;
}

// Stops the child (already told to stop through shared memory) and collects its exit status.
static void reap_child(void) {
    int status;
    pid_t r;
    while ((r = waitpid(g_child, &status, 0)) < 0 && errno == EINTR) { }
    g_child = 0;
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "l4rt_cref: the child process failed\n");
        exit(2);
    }
}

// Waits until *w == want. Returns false when the wait is abandoned (the word was poisoned, or the
// partner is gone). The spinning form pauses in its loop; the futex form sleeps at once, never spins.
static bool wait_for(_Atomic uint32_t *w, uint32_t want, bool use_futex) {
    uint32_t spins = 0;
    for (;;) {
        uint32_t v = atomic_load_explicit(w, memory_order_acquire);
        if (v == want) return true;
        if (v == POISON) return false;
        if (use_futex) {
            futex_wait(w, v);   // EAGAIN (value already changed) and EINTR both just mean: look again
        } else {
            cpu_relax();
            if (++spins == LIVENESS_SPINS) {
                spins = 0;
                if (partner_gone()) return false;
            }
        }
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Percentile of sorted data, interpolating linearly between closest ranks.
static double percentile(const uint64_t *sorted, size_t n, double p) {
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank, hi = lo + 1 < n ? lo + 1 : lo;
    return (double)sorted[lo] + ((double)sorted[hi] - (double)sorted[lo]) * (rank - (double)lo);
}

static double median_of(const double *values, size_t n) {
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted) fail("out of memory");
    memcpy(sorted, values, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double m = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    free(sorted);
    return m;
}

// ---------------------------------------------------------------------------------------------- options

typedef struct {
    long long iterations, warmup, rounds, record, ring, messages;
    long long idle_us;
    long long words;
    bool warmup_given, messages_given;
} options;

static _Noreturn void usage(const char *why) {
    fprintf(stderr,
            "l4rt_cref: %s\n"
            "usage: l4rt_cref spin-rtt|futex-rtt [--iterations N] [--warmup N] [--rounds R]\n"
            "       l4rt_cref words-rtt [--words W] [--iterations N] [--warmup N] [--rounds R]\n"
            "       l4rt_cref idle-wake [--iterations N] [--warmup N] [--rounds R] [--idle-us U]\n"
            "       l4rt_cref spsc-zc|spsc-copy [--record BYTES] [--ring BYTES] [--messages N] [--warmup N] [--rounds R]\n",
            why);
    exit(2);
}

static options parse_options(int argc, char **argv) {
    options o = { .iterations = 200000, .warmup = 20000, .rounds = 5, .record = 64, .ring = 1 << 20, .idle_us = 5000, .words = 8 };
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) usage("an option is missing its value");
        char *end;
        errno = 0;
        long long v = strtoll(argv[i + 1], &end, 10);
        if (errno || *end || end == argv[i + 1] || v < 0) usage("option values are non-negative integers");
        const char *name = argv[i];
        if (strcmp(name, "--iterations") == 0) o.iterations = v;
        else if (strcmp(name, "--warmup") == 0) { o.warmup = v; o.warmup_given = true; }
        else if (strcmp(name, "--rounds") == 0) o.rounds = v;
        else if (strcmp(name, "--record") == 0) o.record = v;
        else if (strcmp(name, "--ring") == 0) o.ring = v;
        else if (strcmp(name, "--messages") == 0) { o.messages = v; o.messages_given = true; }
        else if (strcmp(name, "--idle-us") == 0) o.idle_us = v;
        else if (strcmp(name, "--words") == 0) o.words = v;
        else usage("unknown option");
    }
    if (o.rounds < 1 || o.rounds > 100000) usage("--rounds must be 1..100000");
    return o;
}

// ---------------------------------------------------------------------------------------------- ping-pong

typedef struct {
    _Alignas(SLOT) _Atomic uint32_t ping;   // parent -> child: sequence number of the current request
    _Alignas(SLOT) _Atomic uint32_t pong;   // child -> parent: the sequence number echoed
    _Alignas(SLOT) _Atomic uint32_t stop;
} pingpong;

// words-rtt: the spin ping-pong moving what an L4Rt call moves, a tag and W words each way, each written by one
// side and read by the other: the message sits right behind its sequence word (the obvious layout), so tag + 8
// words and the sequence take two lines each way.
#define MAX_WORDS 63
typedef struct {
    _Alignas(SLOT) _Atomic uint32_t ping;
    uint64_t request[1 + MAX_WORDS];        // tag + words, written before ping
    _Alignas(SLOT) _Atomic uint32_t pong;
    uint64_t reply[1 + MAX_WORDS];          // tag + words, written before pong
    _Alignas(SLOT) _Atomic uint32_t stop;
} wordpong;

// The child's side of one words-rtt exchange: reads the request, answers each word + 1 (and its tag).
static void echo_words(wordpong *wp, size_t words) {
    wp->reply[0] = wp->request[0];
    for (size_t k = 1; k <= words; k++) wp->reply[k] = wp->request[k] + 1;
}

// The parent's side: writes request seq's words, and checks the answer (so neither side's reads can be dropped).
static void post_words(wordpong *wp, size_t words, uint32_t seq) {
    wp->request[0] = words;
    for (size_t k = 1; k <= words; k++) wp->request[k] = (uint64_t)seq * 64 + k;
}

static bool check_words(const wordpong *wp, size_t words, uint32_t seq) {
    bool ok = wp->reply[0] == words;
    for (size_t k = 1; k <= words; k++) ok &= wp->reply[k] == (uint64_t)seq * 64 + k + 1;
    return ok;
}

static int run_rtt(const options *o, bool use_futex, bool with_words) {
    const char *mode = with_words ? "words-rtt" : use_futex ? "futex-rtt" : "spin-rtt";
    if (o->iterations < 1) usage("--iterations must be >= 1");
    if (with_words && (o->words < 1 || o->words > MAX_WORDS)) usage("--words must be 1..63");
    size_t words = with_words ? (size_t)o->words : 0;
    // Sequence numbers are 32-bit (a futex word); they must never reach POISON.
    if ((unsigned long long)o->iterations * (unsigned long long)o->rounds + (unsigned long long)o->warmup >= POISON)
        usage("too many round trips for a 32-bit sequence");
    size_t iterations = (size_t)o->iterations, rounds = (size_t)o->rounds, n = iterations * rounds;
    uint64_t *samples = malloc(n * sizeof *samples);
    uint64_t *scratch = malloc(iterations * sizeof *scratch);
    double *round_medians = malloc(rounds * sizeof *round_medians);
    if (!samples || !scratch || !round_medians) fail("out of memory");
    memset(samples, 0, n * sizeof *samples);   // fault in before timing

    // One layout or the other: the one-line words of pingpong, or the message-carrying wordpong.
    pingpong *pp = with_words ? NULL : shared_map(sizeof *pp);
    wordpong *wp = with_words ? shared_map(sizeof *wp) : NULL;
    _Atomic uint32_t *ping = with_words ? &wp->ping : &pp->ping;
    _Atomic uint32_t *pong = with_words ? &wp->pong : &pp->pong;
    _Atomic uint32_t *stop = with_words ? &wp->stop : &pp->stop;
    if (fork_child(stop, pong) == 0) {
        // Echo every request with its own sequence number until the parent poisons ping.
        for (uint32_t seq = 1;; seq++) {
            if (!wait_for(ping, seq, use_futex)) _exit(atomic_load(stop) ? 0 : 2);
            if (with_words) echo_words(wp, words);
            atomic_store_explicit(pong, seq, memory_order_release);
            if (use_futex) futex_wake(pong);   // always wake: the pure futex baseline
        }
    }

    uint32_t seq = 0;
    bool ok = true;
    for (long long i = 0; i < o->warmup; i++) {
        seq++;
        if (with_words) post_words(wp, words, seq);
        atomic_store_explicit(ping, seq, memory_order_release);
        if (use_futex) futex_wake(ping);
        if (!wait_for(pong, seq, use_futex)) fail("the child process died");
        if (with_words) ok &= check_words(wp, words, seq);
    }
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < iterations; i++) {
            uint64_t start = now_ns();
            seq++;
            if (with_words) post_words(wp, words, seq);
            atomic_store_explicit(ping, seq, memory_order_release);
            if (use_futex) futex_wake(ping);
            if (!wait_for(pong, seq, use_futex)) fail("the child process died");
            if (with_words) ok &= check_words(wp, words, seq);
            uint64_t end = now_ns();
            samples[r * iterations + i] = end - start;
        }
        memcpy(scratch, samples + r * iterations, iterations * sizeof *scratch);
        qsort(scratch, iterations, sizeof *scratch, cmp_u64);
        round_medians[r] = percentile(scratch, iterations, 50);
    }

    atomic_store(stop, 1);
    atomic_store(ping, POISON);
    futex_wake(ping);
    reap_child();
    if (!ok) {
        fprintf(stderr, "l4rt_cref: a reply's words were not the request's + 1\n");
        return 1;
    }

    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += (double)samples[i];
    mean /= (double)n;
    qsort(samples, n, sizeof *samples, cmp_u64);
    printf("{\"mode\":\"%s\",\"unit\":\"ns\",\"median\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"min\":%llu,\"mean\":%.1f,"
           "\"samples\":%zu,\"iterations\":%zu,\"warmup\":%lld,\"words\":%zu,\"rounds\":[",
           mode, percentile(samples, n, 50), percentile(samples, n, 99), percentile(samples, n, 99.9),
           (unsigned long long)samples[0], mean, n, iterations, o->warmup, words);
    for (size_t r = 0; r < rounds; r++) printf("%s%.1f", r ? "," : "", round_medians[r]);
    printf("]}\n");
    return 0;
}

// ---------------------------------------------------------------------------------------------- idle wake

// One-way wake of an idle receiver: the child sleeps in FUTEX_WAIT (no spin) between messages; the parent,
// after --idle-us of quiet, stamps CLOCK_MONOTONIC, publishes the message and FUTEX_WAKEs; the child stamps when
// it runs again and hands the difference back. What L4Rt's idle_wake_ipc_us measures, at its floor.
typedef struct {
    _Alignas(SLOT) _Atomic uint32_t ping;   // parent -> child: sequence number of the current message
    uint64_t sent_ns;                       // the parent's stamp, written before ping
    _Alignas(SLOT) _Atomic uint32_t pong;   // child -> parent: the sequence number taken
    uint64_t woke_ns;                       // the child's stamp, written before pong
    _Alignas(SLOT) _Atomic uint32_t stop;
} idlewake;

static int run_idle_wake(const options *o) {
    if (o->iterations < 1 || o->idle_us < 1) usage("--iterations and --idle-us must be >= 1");
    size_t iterations = (size_t)o->iterations, rounds = (size_t)o->rounds, n = iterations * rounds;
    uint64_t *samples = malloc(n * sizeof *samples);
    uint64_t *scratch = malloc(iterations * sizeof *scratch);
    double *round_medians = malloc(rounds * sizeof *round_medians);
    if (!samples || !scratch || !round_medians) fail("out of memory");
    memset(samples, 0, n * sizeof *samples);

    idlewake *w = shared_map(sizeof *w);
    if (fork_child(&w->stop, &w->pong) == 0) {
        for (uint32_t seq = 1;; seq++) {
            if (!wait_for(&w->ping, seq, true)) _exit(atomic_load(&w->stop) ? 0 : 2);
            w->woke_ns = now_ns();
            atomic_store_explicit(&w->pong, seq, memory_order_release);
            futex_wake(&w->pong);
        }
    }

    struct timespec idle = { .tv_sec = o->idle_us / 1000000, .tv_nsec = (o->idle_us % 1000000) * 1000 };
    uint32_t seq = 0;
    for (long long i = -o->warmup; i < (long long)n; i++) {
        nanosleep(&idle, NULL);   // the child has long gone to sleep
        seq++;
        w->sent_ns = now_ns();
        atomic_store_explicit(&w->ping, seq, memory_order_release);
        futex_wake(&w->ping);
        if (!wait_for(&w->pong, seq, true)) fail("the child process died");
        if (i >= 0) samples[i] = w->woke_ns - w->sent_ns;
    }
    for (size_t r = 0; r < rounds; r++) {
        memcpy(scratch, samples + r * iterations, iterations * sizeof *scratch);
        qsort(scratch, iterations, sizeof *scratch, cmp_u64);
        round_medians[r] = percentile(scratch, iterations, 50) / 1000.0;
    }

    atomic_store(&w->stop, 1);
    atomic_store(&w->ping, POISON);
    futex_wake(&w->ping);
    reap_child();

    qsort(samples, n, sizeof *samples, cmp_u64);
    printf("{\"mode\":\"idle-wake\",\"unit\":\"us\",\"median\":%.2f,\"p99\":%.2f,\"min\":%.2f,\"samples\":%zu,\"idle_us\":%lld,\"rounds\":[",
           percentile(samples, n, 50) / 1000.0, percentile(samples, n, 99) / 1000.0, (double)samples[0] / 1000.0, n, o->idle_us);
    for (size_t r = 0; r < rounds; r++) printf("%s%.2f", r ? "," : "", round_medians[r]);
    printf("]}\n");
    return 0;
}

// ---------------------------------------------------------------------------------------------- SPSC ring

// Positions grow without bound (64-bit, never wrap in practice); a position's offset in the ring is
// position & (ring - 1). A record is an 8-byte length header followed by the payload (a multiple of 8
// bytes). A record never straddles the end of the ring: when it does not fit, the producer writes the
// PADDING header in the remaining space, which tells the consumer to skip to offset 0.
// The producer publishes by a release store of tail after writing the record; the consumer frees space by
// a release store of head after reading it. Each side caches the other's position and re-reads it only
// when the cached value says full / empty, so the shared lines move only when they must.
typedef struct {
    _Alignas(SLOT) _Atomic uint64_t head;   // consumer's position: everything before it is free
    _Alignas(SLOT) _Atomic uint64_t tail;   // producer's position: everything before it is published
    _Alignas(SLOT) _Atomic uint32_t go;     // parent -> child: the batch the producer should run now
    uint64_t count;                         // records in that batch, written before go
    _Alignas(SLOT) _Atomic uint32_t stop;
} ring_ctl;

#define PADDING UINT64_MAX

// Payload word values: every word of record seq holds seq * GOLDEN (so a stale or misplaced record breaks
// the checksum); the copying mode stamps that value into the first and last words of its prepared record.
#define GOLDEN 0x9E3779B97F4A7C15ull

// Four independent accumulators / stores per step: at -O2 gcc's vectorizer ("very cheap" model) leaves a
// plain loop of unknown length scalar, while this shape gets SLP-vectorized into 16-byte SSE2/NEON
// operations, as the .NET side gets from Vector<T>. A plain scalar loop would make the baseline weak.
static inline uint64_t sum_words(const uint64_t *p, uint64_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w = 0;
    for (; w + 4 <= n; w += 4) {
        s0 += p[w];
        s1 += p[w + 1];
        s2 += p[w + 2];
        s3 += p[w + 3];
    }
    for (; w < n; w++) s0 += p[w];
    return s0 + s1 + s2 + s3;
}

static inline void fill_words(uint64_t *p, uint64_t n, uint64_t v) {
    uint64_t w = 0;
    for (; w + 4 <= n; w += 4) {
        p[w] = v;
        p[w + 1] = v;
        p[w + 2] = v;
        p[w + 3] = v;
    }
    for (; w < n; w++) p[w] = v;
}

// The producer, in the child: runs batch after batch as the parent announces them, until told to stop.
static _Noreturn void produce(ring_ctl *ctl, uint8_t *data, uint64_t ring, uint64_t record, bool zero_copy) {
    const uint64_t mask = ring - 1, need = 8 + record, words = record / 8;
    uint64_t *prepared = malloc(record);
    if (!prepared) _exit(2);
    fill_words(prepared, words, 0x5555555555555555ull);   // the record the application has ready
    memset(data, 0, ring);   // fault the ring's pages into this process too, before any timing starts

    uint64_t tail = 0, head_cache = 0, seq = 0;
    for (uint32_t batch = 1;; batch++) {
        if (!wait_for(&ctl->go, batch, false)) _exit(atomic_load(&ctl->stop) ? 0 : 2);
        uint64_t count = ctl->count;
        for (uint64_t i = 0; i < count; i++, seq++) {
            uint64_t off = tail & mask;
            uint64_t pad = off + need > ring ? ring - off : 0;
            uint32_t spins = 0;
            while (tail + pad + need - head_cache > ring) {   // full: wait for the consumer
                head_cache = atomic_load_explicit(&ctl->head, memory_order_acquire);
                if (tail + pad + need - head_cache <= ring) break;
                cpu_relax();
                if (++spins == LIVENESS_SPINS) {
                    spins = 0;
                    if (partner_gone()) _exit(2);
                }
            }
            if (pad) {
                *(uint64_t *)(data + off) = PADDING;
                tail += pad;
                off = 0;
            }
            uint64_t *rec = (uint64_t *)(data + off);
            uint64_t v = seq * GOLDEN;
            if (zero_copy) {
                fill_words(rec + 1, words, v);   // written in place
            } else {
                prepared[0] = v;
                prepared[words - 1] = v;
                memcpy(rec + 1, prepared, record);
            }
            rec[0] = record;
            tail += need;
            atomic_store_explicit(&ctl->tail, tail, memory_order_release);
        }
    }
}

static int run_spsc(const options *o, bool zero_copy) {
    const char *mode = zero_copy ? "spsc-zc" : "spsc-copy";
    if (o->record < 8 || o->record % 8) usage("--record must be a positive multiple of 8");
    if (o->ring < 64 || (o->ring & (o->ring - 1)) || o->ring > (1ll << 40)) usage("--ring must be a power of two >= 64");
    if (o->record + 8 > o->ring) usage("--record (+ 8-byte header) must fit in --ring");
    const uint64_t ring = (uint64_t)o->ring, record = (uint64_t)o->record, mask = ring - 1;
    const uint64_t need = 8 + record, words = record / 8;

    // Default round: ~1 GiB of payload or 5M records, whichever is smaller (well under 1 s here).
    uint64_t messages = o->messages_given ? (uint64_t)o->messages : (1ull << 30) / record;
    if (!o->messages_given && messages > 5000000) messages = 5000000;
    if (messages < 1) usage("--messages must be >= 1");
    // Default warm-up: two passes over the ring (every page touched by both sides, caches and branch
    // predictors warm), and at least 20000 records or 64 MiB, whichever is less.
    uint64_t warmup = (uint64_t)o->warmup;
    if (!o->warmup_given) {
        uint64_t floor = (64ull << 20) / record < 20000 ? (64ull << 20) / record : 20000;
        warmup = 2 * (ring / need);
        if (warmup < floor) warmup = floor;
    }
    size_t rounds = (size_t)o->rounds;
    double *rate = malloc(rounds * sizeof *rate), *gbps = malloc(rounds * sizeof *gbps);
    uint64_t *out = malloc(record);
    if (!rate || !gbps || !out) fail("out of memory");
    memset(out, 0, record);

    ring_ctl *ctl = shared_map(sizeof *ctl);
    uint8_t *data = shared_map(ring);
    if (fork_child(&ctl->stop, NULL) == 0) produce(ctl, data, ring, record, zero_copy);

    uint64_t head = 0, tail_cache = 0, seq = 0;
    bool ok = true;
    // Batch 1 is the warm-up (when there is one); the measured rounds follow.
    uint32_t batch = 1;
    for (size_t r = 0; r < rounds + (warmup ? 1 : 0); r++, batch++) {
        bool measured = !(warmup && r == 0);
        uint64_t count = measured ? messages : warmup;
        ctl->count = count;
        atomic_store_explicit(&ctl->go, batch, memory_order_release);

        uint64_t sum = 0, start = 0;
        for (uint64_t i = 0; i < count;) {
            uint32_t spins = 0;
            while (head == tail_cache) {   // empty: wait for the producer
                tail_cache = atomic_load_explicit(&ctl->tail, memory_order_acquire);
                if (head != tail_cache) break;
                cpu_relax();
                if (++spins == LIVENESS_SPINS) {
                    spins = 0;
                    if (partner_gone()) fail("the producer process died");
                }
            }
            uint64_t off = head & mask;
            const uint64_t *rec = (const uint64_t *)(data + off);
            uint64_t len = rec[0];
            if (len == PADDING) {
                head += ring - off;
                continue;
            }
            if (len == 0 || len > record || len % 8 || len > ring - 8 - off) fail("corrupt record header");
            if (start == 0) start = now_ns();   // timed from the first record, as the .NET consumer is
            if (zero_copy) {
                sum += sum_words(rec + 1, len / 8);   // every word read in place
            } else {
                memcpy(out, rec + 1, len);
                // The compiler must assume the copy is observed; reading two words checks it landed.
                __asm__ __volatile__("" : : "r"(out) : "memory");
                sum += out[0] + out[len / 8 - 1];
            }
            head += 8 + len;
            atomic_store_explicit(&ctl->head, head, memory_order_release);
            i++;
        }
        uint64_t elapsed = now_ns() - start;

        // The expected checksum, computed independently of the ring and outside the timed loop.
        uint64_t expected = 0;
        for (uint64_t i = 0; i < count; i++, seq++)
            expected += (zero_copy ? words : 2) * (seq * GOLDEN);
        if (sum != expected) ok = false;
        if (measured) {
            size_t m = warmup ? r - 1 : r;
            rate[m] = (double)count * 1e9 / (double)(elapsed ? elapsed : 1);
            gbps[m] = rate[m] * (double)record / 1e9;
        }
    }

    atomic_store(&ctl->stop, 1);
    atomic_store(&ctl->go, POISON);
    reap_child();

    printf("{\"mode\":\"%s\",\"record\":%llu,\"ring\":%llu,\"messages\":%llu,\"warmup\":%llu,"
           "\"msgs_per_s\":%.1f,\"gbps\":%.4f,\"rounds_msgs_per_s\":[",
           mode, (unsigned long long)record, (unsigned long long)ring, (unsigned long long)messages,
           (unsigned long long)warmup, median_of(rate, rounds), median_of(gbps, rounds));
    for (size_t r = 0; r < rounds; r++) printf("%s%.1f", r ? "," : "", rate[r]);
    printf("],\"rounds_gbps\":[");
    for (size_t r = 0; r < rounds; r++) printf("%s%.4f", r ? "," : "", gbps[r]);
    printf("],\"checksum_ok\":%s}\n", ok ? "true" : "false");
    if (!ok) fprintf(stderr, "l4rt_cref: checksum mismatch\n");
    return ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------- main

int main(int argc, char **argv) {
    if (argc < 2) usage("no mode given");
    options o = parse_options(argc, argv);
    int rc;
    if (strcmp(argv[1], "spin-rtt") == 0) rc = run_rtt(&o, false, false);
    else if (strcmp(argv[1], "futex-rtt") == 0) rc = run_rtt(&o, true, false);
    else if (strcmp(argv[1], "words-rtt") == 0) rc = run_rtt(&o, false, true);
    else if (strcmp(argv[1], "idle-wake") == 0) rc = run_idle_wake(&o);
    else if (strcmp(argv[1], "spsc-zc") == 0) rc = run_spsc(&o, true);
    else if (strcmp(argv[1], "spsc-copy") == 0) rc = run_spsc(&o, false);
    else usage("unknown mode");
    if (fflush(stdout) != 0) rc = 2;
    return rc;
}
