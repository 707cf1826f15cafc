/*
 * The C side of `deno task bench:rsplib`: times RSPLIB 3.4.4 (Debian's
 * librsplib3) the way bench/rsplib.ts times this project, and checks at run
 * time that the internals declared in rsplib_abi.h match the library.
 *
 *   rsplib-harness selftest
 *   rsplib-harness codec FILE ROUND_MS ROUNDS STRICT
 *   rsplib-harness handlespace OPERATION POLICY POOLS PER_POOL ROUND_MS ROUNDS
 *
 * codec: FILE has one message per line, "<ppid> <hex>". One operation is one
 * pass over all messages of the file. "parse" = rserpoolPacket2Message() and
 * rserpoolMessageDelete() per message (everything RSPLIB allocated is freed,
 * as a receiver does); "create" = rserpoolMessage2Packet() of the message
 * parsed before timing, into a buffer of its own; "copy" = memcpy() of the
 * bytes. Parse and copy work on the messages RSPLIB parses; a message it
 * cannot parse is listed in "unparsable". Create works on those it also
 * re-creates byte for byte; the others are listed in "uncreatable" (RSPLIB's
 * creator aborts the process for some, so every message is parsed and
 * re-created in a forked child first). With STRICT = 1 either is an ABI
 * failure. The receiver's source address (192.0.2.77:4242) is passed to the
 * parser as recvmsg() would give it: RSPLIB fills it into messages without
 * addresses of their own (and aborts without one).
 *
 * handlespace: OPERATION is register, deregister, resolve1, resolve3 or
 * checksum; the cases are built as bench/handlespace_cases.ts builds them.
 *
 * Timing: CLOCK_MONOTONIC; a round runs batches until their timed part adds
 * up to ROUND_MS; one untimed warm-up round, then ROUNDS rounds; the median
 * rate is reported. Output: one JSON object on stdout. Exit status: 0, 1 when
 * an ABI check failed ("ABI check failed: ..." on stderr), 2 on usage or
 * input errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rserpool/rserpool-policytypes.h>

#include "rsplib_abi.h"

/* ---- ABI checks ---------------------------------------------------------- */

static unsigned long checks = 0;

static void abi_fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("ABI check failed: ", stderr);
  vfprintf(stderr, format, args);
  fputs("\n(the declarations in bench/rsplib/rsplib_abi.h do not match this RSPLIB build)\n",
        stderr);
  va_end(args);
  exit(1);
}

#define ABI_CHECK(condition, ...)          \
  do {                                     \
    checks++;                              \
    if (!(condition)) abi_fail(__VA_ARGS__); \
  } while (0)

static void usage_fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("rsplib-harness: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(2);
}

/* Memory for structures whose size we declare ourselves: filled with 0xa5, followed by
 * GUARD_BYTES canary bytes that RSPLIB must never touch. */
#define GUARD_BYTES 64

struct guard {
  unsigned char* memory;
  size_t size;
  const char* what;
};

static struct guard* guards = NULL;
static size_t guard_count = 0;
static size_t guard_capacity = 0;

static unsigned char canary_byte(size_t i) {
  return (unsigned char)(0x5b ^ (i * 37));
}

static void* guarded(size_t size, const char* what) {
  size_t total = (size + GUARD_BYTES + 15) & ~(size_t)15;
  unsigned char* memory = aligned_alloc(16, total);
  if (memory == NULL) usage_fail("out of memory");
  memset(memory, 0xa5, size);
  for (size_t i = 0; i < GUARD_BYTES; i++) memory[size + i] = canary_byte(i);
  if (guard_count == guard_capacity) {
    guard_capacity = guard_capacity ? guard_capacity * 2 : 64;
    guards = realloc(guards, guard_capacity * sizeof(*guards));
    if (guards == NULL) usage_fail("out of memory");
  }
  guards[guard_count++] = (struct guard){memory, size, what};
  return memory;
}

static void check_guard(const struct guard* g, const char* when) {
  size_t i = 0;
  while (i < GUARD_BYTES && g->memory[g->size + i] == canary_byte(i)) i++;
  ABI_CHECK(i == GUARD_BYTES, "%s: RSPLIB wrote past the %zu bytes we declared for %s", when,
            g->size, g->what);
}

static void check_guards(const char* when) {
  for (size_t k = 0; k < guard_count; k++) check_guard(&guards[k], when);
}

static void guarded_free(void* memory) {
  for (size_t k = 0; k < guard_count; k++) {
    if (guards[k].memory == memory) {
      check_guard(&guards[k], "before free");
      guards[k] = guards[--guard_count];
      free(memory);
      return;
    }
  }
  abi_fail("internal: freeing unknown guarded memory");
}

/* ---- Timing (same method as bench/rsplib.ts) ----------------------------- */

struct batch {
  double operations;
  double nanoseconds;
};

typedef struct batch (*batch_function)(void* context);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double run_round(batch_function run, void* context, double round_ms) {
  double operations = 0, nanoseconds = 0;
  while (nanoseconds < round_ms * 1e6) {
    struct batch b = run(context);
    operations += b.operations;
    nanoseconds += b.nanoseconds;
  }
  return operations / nanoseconds * 1e9;
}

static int compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

#define MAX_ROUNDS 100

struct measurement {
  double median;
  double rates[MAX_ROUNDS];
  int rounds;
};

static struct measurement measure(batch_function run, void* context, double round_ms, int rounds) {
  struct measurement m = {0};
  double sorted[MAX_ROUNDS];
  run_round(run, context, round_ms); /* warm-up round, discarded */
  for (int r = 0; r < rounds; r++) m.rates[r] = sorted[r] = run_round(run, context, round_ms);
  qsort(sorted, (size_t)rounds, sizeof(double), compare_doubles);
  m.median = sorted[rounds / 2];
  m.rounds = rounds;
  return m;
}

static void print_measurement(const char* name, const struct measurement* m, const char* extra) {
  printf("\"%s\":{\"median\":%.3f,\"rounds\":[", name, m->median);
  for (int r = 0; r < m->rounds; r++) printf("%s%.3f", r ? "," : "", m->rates[r]);
  printf("]%s}", extra);
}

/* Passes per batch for cases without a natural batch: doubled until a batch takes 1 ms. */
static size_t calibrate(batch_function run, void* context, size_t* iterations) {
  *iterations = 1;
  for (;;) {
    struct batch b = run(context);
    if (b.nanoseconds >= 1e6 || *iterations >= ((size_t)1 << 30)) return *iterations;
    *iterations *= 2;
  }
}

static volatile size_t sink;

/* ---- Codec ---------------------------------------------------------------- */

struct message {
  uint32_t ppid;
  size_t length;
  unsigned char* bytes;    /* the input, guarded */
  unsigned char* original; /* a copy to prove parsing leaves the input alone */
  struct rsp_message* parsed;
  unsigned char* out; /* where create writes, guarded */
  size_t out_capacity;
  struct rsp_peer* peer; /* for Handle Table Responses */
  int unparsable;        /* left out of everything */
  int uncreatable;       /* parsed, but left out of the create timing */
  char reason[300];
};

struct codec {
  struct message* messages;
  size_t count;
  size_t* parsed;  /* indices of the messages parse and copy work on */
  size_t parsed_count;
  size_t parsed_bytes;
  size_t* created; /* indices of the messages create works on */
  size_t created_count;
  size_t created_bytes;
  size_t iterations;
  unsigned char* copy_target;
};

/* The sender's address, as a receiver gets it from recvmsg(): RSPLIB's parser fills it into
 * messages without addresses of their own (and aborts without one). */
static union rsp_address receiver_source;

static void set_source(union rsp_address* source) {
  memset(source, 0, sizeof(*source));
  source->in.sin_family = AF_INET;
  source->in.sin_port = htons(4242);
  source->in.sin_addr.s_addr = htonl(0xc000024d); /* 192.0.2.77 */
}

static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void read_messages(const char* file, struct codec* codec) {
  FILE* f = fopen(file, "r");
  if (f == NULL) usage_fail("cannot open %s", file);
  char* line = NULL;
  size_t capacity = 0;
  size_t allocated = 0;
  ssize_t n;
  while ((n = getline(&line, &capacity, f)) > 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n == 0) continue;
    char* space = strchr(line, ' ');
    if (space == NULL) usage_fail("%s: expected \"<ppid> <hex>\"", file);
    *space = 0;
    const char* hex = space + 1;
    size_t hex_length = strlen(hex);
    if (hex_length % 2 != 0 || hex_length == 0) usage_fail("%s: odd or empty hex", file);
    if (codec->count == allocated) {
      allocated = allocated ? allocated * 2 : 16;
      codec->messages = realloc(codec->messages, allocated * sizeof(struct message));
      if (codec->messages == NULL) usage_fail("out of memory");
    }
    struct message* m = &codec->messages[codec->count++];
    memset(m, 0, sizeof(*m));
    m->ppid = (uint32_t)strtoul(line, NULL, 10);
    m->length = hex_length / 2;
    m->bytes = guarded(m->length, "an input message");
    m->original = malloc(m->length);
    if (m->original == NULL) usage_fail("out of memory");
    for (size_t i = 0; i < m->length; i++) {
      int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
      if (high < 0 || low < 0) usage_fail("%s: bad hex", file);
      m->bytes[i] = (unsigned char)(high << 4 | low);
    }
    memcpy(m->original, m->bytes, m->length);
  }
  free(line);
  fclose(f);
}

/* Parses once with distinctive arguments and checks the fields RSPLIB must have set at the
 * offsets we declared. Returns the message, or NULL (with the reason) when RSPLIB refuses it. */
static struct rsp_message* check_parse(struct message* m, size_t index) {
  union rsp_address source;
  set_source(&source);
  const sctp_assoc_t assoc = 0x5a5a1234;
  const size_t min_buffer = m->length + 4096;

  struct rsp_message* p = NULL;
  unsigned int result = rserpoolPacket2Message((char*)m->bytes, &source, assoc, m->ppid, m->length,
                                               min_buffer, &p);
  ABI_CHECK(result == 0 && p != NULL, "message %zu: rserpoolPacket2Message() returned %u", index,
            result);
  size_t usable = malloc_usable_size(p);
  ABI_CHECK(usable >= sizeof(struct rsp_message) && usable < sizeof(struct rsp_message) + 32,
            "message %zu: RSPLIB allocated %zu bytes for a struct RSerPoolMessage, we declare %zu",
            index, usable, sizeof(struct rsp_message));
  ABI_CHECK(p->buffer == (char*)m->bytes, "message %zu: Buffer is not the packet", index);
  ABI_CHECK(p->buffer_size == m->length, "message %zu: BufferSize %zu, expected %zu", index,
            p->buffer_size, m->length);
  ABI_CHECK(p->original_buffer_size == min_buffer, "message %zu: OriginalBufferSize %zu", index,
            p->original_buffer_size);
  ABI_CHECK(p->assoc_id == assoc, "message %zu: AssocID %d", index, (int)p->assoc_id);
  ABI_CHECK(p->ppid == m->ppid, "message %zu: PPID %u", index, p->ppid);
  ABI_CHECK(memcmp(&p->source_address, &source, sizeof(source)) == 0,
            "message %zu: SourceAddress not where declared", index);
  ABI_CHECK(p->buffer_auto_delete == 0, "message %zu: BufferAutoDelete", index);
  ABI_CHECK(p->pool_element_auto_delete == 1 && p->cookie_auto_delete == 1 &&
              p->pool_elements_auto_delete == 1 && p->transport_list_auto_delete == 1 &&
              p->handlespace_auto_delete == 1 && p->peer_list_node_auto_delete == 1 &&
              p->peer_list_auto_delete == 1,
            "message %zu: the ...AutoDelete flags are not where declared", index);
  if (m->length >= 4 && (m->ppid == RSP_PPID_ASAP || m->ppid == RSP_PPID_ENRP)) {
    unsigned int base = m->ppid == RSP_PPID_ASAP ? RSP_ASAP_TYPE_BASE : RSP_ENRP_TYPE_BASE;
    ABI_CHECK(p->type == (base | m->bytes[0]), "message %zu: Type 0x%x", index, p->type);
    ABI_CHECK(p->flags == m->bytes[1], "message %zu: Flags 0x%x", index, p->flags);
  }
  ABI_CHECK(p->pool_elements_count <= RSP_MAX_RESOLUTION_ITEMS,
            "message %zu: PoolElementPtrArraySize %zu", index, p->pool_elements_count);
  ABI_CHECK(p->handle.size <= RSP_MAX_POOL_HANDLE, "message %zu: Handle.Size %zu", index,
            p->handle.size);
  ABI_CHECK(memcmp(m->bytes, m->original, m->length) == 0,
            "message %zu: rserpoolPacket2Message() changed its input", index);

  if (p->position != m->length || p->error != p->operation_error_code) {
    snprintf(m->reason, sizeof(m->reason),
             "RSPLIB cannot parse it (error 0x%04x, stopped at byte %zu of %zu)", p->error,
             p->position, m->length);
    rserpoolMessageDelete(p);
    return NULL;
  }
  return p;
}

/* Points a parsed message at a create buffer of its own (the creator writes into Buffer, which
 * is still the packet) and gives a Handle Table Response the peer its creator needs. */
static void prepare_create(struct message* m, struct rsp_message* p, size_t index) {
  m->out_capacity = m->length + 256;
  m->out = guarded(m->out_capacity, "a create buffer");
  p->buffer = (char*)m->out;
  p->buffer_size = p->original_buffer_size = m->out_capacity;
  if (p->type == RSP_ENRP_HANDLE_TABLE_RESPONSE && p->handlespace != NULL) {
    /* The creator takes a Handle Table Response's entries from HandlespacePtr (which the parser
     * filled) only for a peer (PeerListNodePtr), keeping its position in the peer's UserData,
     * and at most MaxElementsPerHTRequest of them: as RSPLIB's registrar answers a request. */
    m->peer = guarded(sizeof(struct rsp_peer), "a struct PeerListNode");
    peerListNodeNew_SimpleRedBlackTree(m->peer, p->receiver_id, 0, NULL);
    ABI_CHECK(m->peer->identifier == p->receiver_id && m->peer->flags == 0 &&
                m->peer->address_block == NULL && m->peer->user_data == NULL &&
                m->peer->takeover_process == NULL && m->peer->status == 0,
              "message %zu: struct PeerListNode fields not where declared", index);
    p->peer_list_node = m->peer;
    p->max_elements_per_ht_request = RSP_REGISTRAR_MAX_ELEMENTS_PER_HT_REQUEST;
  }
  m->parsed = p;
}

static size_t create_once(struct message* m) {
  size_t created = rserpoolMessage2Packet(m->parsed);
  if (m->peer != NULL) {
    free(m->peer->user_data); /* the HandleTableExtract the creator left for a continuation */
    m->peer->user_data = NULL;
  }
  return created;
}

/* RSPLIB aborts the process when a message lacks what only its sender knows (e.g. the creator,
 * for a Registration Response without PoolElementPtr), so whatever is done to a message for the
 * first time is done in a child first. Returns 1 when the child finished; else 0 and the reason,
 * in RSPLIB's own words (its log names the function, then "Error: ..."). */
static int probe(void (*action)(struct message*), struct message* m, const char* doing) {
  int error_pipe[2];
  if (pipe(error_pipe) != 0) usage_fail("pipe() failed");
  fflush(stdout);
  fflush(stderr);
  pid_t child = fork();
  if (child < 0) usage_fail("fork() failed");
  if (child == 0) {
    close(error_pipe[0]);
    dup2(error_pipe[1], 2);
    action(m);
    check_guards(doing);
    _exit(0);
  }
  close(error_pipe[1]);
  char errors[4096];
  size_t error_length = 0;
  ssize_t n;
  while (error_length < sizeof(errors) - 1 &&
         (n = read(error_pipe[0], errors + error_length, sizeof(errors) - 1 - error_length)) > 0) {
    error_length += (size_t)n;
  }
  errors[error_length] = 0;
  close(error_pipe[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
    fputs(errors, stderr);
    exit(1); /* an ABI check failed in the child; it said which */
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
  const char* function = NULL;
  const char* error = strstr(errors, "Error: ");
  for (const char* s = errors; (s = strstr(s, "./src/")) != NULL; s++) function = s + 6;
  char where[120] = "", what[120] = "";
  if (function != NULL) sscanf(function, "%*s %119[^(]", where);
  if (error != NULL) sscanf(error + 7, "%119[^\n]", what);
  snprintf(m->reason, sizeof(m->reason), "RSPLIB aborts %s it (%s%s%s%s%s)", doing,
           WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "failed", where[0] ? " in " : "",
           where, what[0] ? ": " : "", what);
  return 0;
}

static void parse_once(struct message* m) {
  struct rsp_message* p;
  rserpoolPacket2Message((char*)m->bytes, &receiver_source, 0, m->ppid, m->length, 0, &p);
  rserpoolMessageDelete(p);
}

static void create_in_child(struct message* m) {
  create_once(m);
}

static int check_create(struct message* m) {
  if (!probe(create_in_child, m, "re-creating")) return 0;
  size_t created = create_once(m); /* the child proved it safe; now for real */
  check_guards("after rserpoolMessage2Packet()");
  if (created != m->length || memcmp(m->out, m->bytes, m->length) != 0) {
    size_t at = 0;
    while (at < created && at < m->length && m->out[at] == m->bytes[at]) at++;
    snprintf(m->reason, sizeof(m->reason),
             "RSPLIB re-creates it differently (%zu bytes instead of %zu, first difference at "
             "byte %zu)",
             created, m->length, at);
    return 0;
  }
  return 1;
}

static void release_message(struct message* m) {
  if (m->parsed != NULL) {
    m->parsed->buffer = (char*)m->bytes;
    if (m->peer != NULL) {
      m->parsed->peer_list_node = NULL; /* ours, not RSPLIB's to free */
      peerListNodeDelete_SimpleRedBlackTree(m->peer);
      guarded_free(m->peer);
      m->peer = NULL;
    }
    rserpoolMessageDelete(m->parsed);
    m->parsed = NULL;
  }
}

static struct batch parse_batch(void* context) {
  struct codec* c = context;
  size_t positions = 0;
  unsigned int errors = 0;
  double start = now_ns();
  for (size_t it = 0; it < c->iterations; it++) {
    for (size_t k = 0; k < c->parsed_count; k++) {
      struct message* m = &c->messages[c->parsed[k]];
      struct rsp_message* p;
      errors |= rserpoolPacket2Message((char*)m->bytes, &receiver_source, 0, m->ppid, m->length,
                                       0, &p);
      positions += p->position;
      rserpoolMessageDelete(p);
    }
  }
  double elapsed = now_ns() - start;
  ABI_CHECK(errors == 0 && positions == c->iterations * c->parsed_bytes,
            "parsing did not reach the end of every message");
  return (struct batch){(double)c->iterations, elapsed};
}

static struct batch create_batch(void* context) {
  struct codec* c = context;
  size_t created = 0;
  double start = now_ns();
  for (size_t it = 0; it < c->iterations; it++) {
    for (size_t k = 0; k < c->created_count; k++) {
      created += create_once(&c->messages[c->created[k]]);
    }
  }
  double elapsed = now_ns() - start;
  ABI_CHECK(created == c->iterations * c->created_bytes, "creating gave other lengths than before");
  return (struct batch){(double)c->iterations, elapsed};
}

static struct batch copy_batch(void* context) {
  struct codec* c = context;
  double start = now_ns();
  for (size_t it = 0; it < c->iterations; it++) {
    for (size_t k = 0; k < c->parsed_count; k++) {
      struct message* m = &c->messages[c->parsed[k]];
      memcpy(c->copy_target, m->bytes, m->length);
      __asm__ __volatile__("" : : "r"(c->copy_target) : "memory");
    }
  }
  double elapsed = now_ns() - start;
  return (struct batch){(double)c->iterations, elapsed};
}

static void print_json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') {
      putchar('\\');
      putchar(*s);
    } else if ((unsigned char)*s < 0x20) {
      printf("\\u%04x", (unsigned char)*s);
    } else {
      putchar(*s);
    }
  }
  putchar('"');
}

static void print_left_out(const struct codec* c, const char* name, int uncreatable) {
  printf("\"%s\":[", name);
  int first = 1;
  for (size_t i = 0; i < c->count; i++) {
    const struct message* m = &c->messages[i];
    if (uncreatable ? !m->uncreatable : !m->unparsable) continue;
    printf("%s{\"index\":%zu,\"reason\":", first ? "" : ",", i);
    print_json_string(m->reason);
    putchar('}');
    first = 0;
  }
  printf("],");
}

static struct measurement timed(batch_function run, struct codec* c, double round_ms, int rounds,
                                size_t* iterations) {
  struct measurement none = {0};
  if (run == create_batch ? c->created_count == 0 : c->parsed_count == 0) return none;
  calibrate(run, c, &c->iterations);
  *iterations = c->iterations;
  return measure(run, c, round_ms, rounds);
}

static int run_codec(const char* file, double round_ms, int rounds, int strict) {
  struct codec c = {0};
  set_source(&receiver_source);
  read_messages(file, &c);
  if (c.count == 0) usage_fail("%s: no messages", file);
  c.parsed = calloc(c.count, sizeof(size_t));
  c.created = calloc(c.count, sizeof(size_t));
  size_t longest = 0;
  for (size_t i = 0; i < c.count; i++) {
    struct message* m = &c.messages[i];
    struct rsp_message* p = probe(parse_once, m, "parsing") ? check_parse(m, i) : NULL;
    if (p == NULL) {
      m->unparsable = 1;
      if (strict) abi_fail("message %zu: %s", i, m->reason);
      continue;
    }
    c.parsed[c.parsed_count++] = i;
    c.parsed_bytes += m->length;
    if (m->length > longest) longest = m->length;
    prepare_create(m, p, i);
    if (check_create(m)) {
      c.created[c.created_count++] = i;
      c.created_bytes += m->length;
    } else {
      m->uncreatable = 1;
      if (strict) abi_fail("message %zu: %s", i, m->reason);
      release_message(m);
    }
  }
  check_guards("after checking the messages");

  size_t parse_iterations = 0, create_iterations = 0, copy_iterations = 0;
  c.copy_target = guarded(longest ? longest : 1, "the copy target");
  struct measurement parse = timed(parse_batch, &c, round_ms, rounds, &parse_iterations);
  struct measurement create = timed(create_batch, &c, round_ms, rounds, &create_iterations);
  struct measurement copy = timed(copy_batch, &c, round_ms, rounds, &copy_iterations);
  for (size_t k = 0; k < c.created_count; k++) {
    struct message* m = &c.messages[c.created[k]];
    ABI_CHECK(memcmp(m->out, m->bytes, m->length) == 0,
              "message %zu: re-created bytes changed while timing", c.created[k]);
  }
  for (size_t i = 0; i < c.count; i++) {
    ABI_CHECK(memcmp(c.messages[i].bytes, c.messages[i].original, c.messages[i].length) == 0,
              "message %zu: input changed while timing", i);
    release_message(&c.messages[i]);
  }
  check_guards("at the end");

  printf("{\"mode\":\"codec\",\"messages\":%zu,\"parsed\":%zu,\"parsedBytes\":%zu,"
         "\"created\":%zu,\"createdBytes\":%zu,",
         c.count, c.parsed_count, c.parsed_bytes, c.created_count, c.created_bytes);
  print_left_out(&c, "unparsable", 0);
  print_left_out(&c, "uncreatable", 1);
  char extra[64];
  snprintf(extra, sizeof(extra), ",\"iterations\":%zu", parse_iterations);
  print_measurement("parse", &parse, extra);
  putchar(',');
  snprintf(extra, sizeof(extra), ",\"iterations\":%zu", create_iterations);
  print_measurement("create", &create, extra);
  putchar(',');
  snprintf(extra, sizeof(extra), ",\"iterations\":%zu", copy_iterations);
  print_measurement("copy", &copy, extra);
  printf(",\"checks\":%lu}\n", checks);
  return 0;
}

/* ---- Handlespace ---------------------------------------------------------- */

/* xoshiro128** seeded through SplitMix32, as lib/policy/random.ts seeds its generator; the C
 * side draws its own policy values from the same distributions as bench/handlespace_cases.ts. */
struct random {
  uint32_t a, b, c, d;
};

static uint32_t rotl32(uint32_t x, int k) {
  return (x << k) | (x >> (32 - k));
}

static void random_seed(struct random* r, uint32_t seed) {
  uint32_t s = seed;
  uint32_t* state[4] = {&r->a, &r->b, &r->c, &r->d};
  for (int i = 0; i < 4; i++) {
    s += 0x9e3779b9u;
    uint32_t z = s;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    *state[i] = z ^ (z >> 16);
  }
  if ((r->a | r->b | r->c | r->d) == 0) r->d = 1;
}

static uint32_t random_next32(struct random* r) {
  uint32_t result = rotl32(r->b * 5, 7) * 9;
  uint32_t t = r->b << 9;
  r->c ^= r->a;
  r->d ^= r->b;
  r->b ^= r->c;
  r->a ^= r->d;
  r->c ^= t;
  r->d = rotl32(r->d, 11);
  return result;
}

static double random_next(struct random* r) {
  uint64_t high = random_next32(r) >> 5, low = random_next32(r) >> 6;
  return ((double)high * 67108864.0 + (double)low) / 9007199254740992.0;
}

enum operation { REGISTER, DEREGISTER, RESOLVE1, RESOLVE3, CHECKSUM };

struct victim {
  size_t pool;
  rsp_element_id identifier;
  struct rsp_policy_settings* policy;
  struct rsp_transport* transport;
};

struct handlespace_case {
  enum operation operation;
  size_t pools, per_pool;
  struct rsp_handlespace* handlespace;
  struct rsp_pool_handle** handles;
  struct victim* victims;
  size_t victim_count;
  size_t next_pool;
};

static const unsigned long long REGISTRATION_LIFE_MS = 3600000ULL;
static const rsp_registrar_id HOME_REGISTRAR = 0x1000;

static void fill_policy(struct rsp_policy_settings* policy, unsigned int type, uint32_t value) {
  poolPolicySettingsNew(policy);
  policy->type = type;
  if (type == PPT_LEASTUSED) policy->load = value;
  if (type == PPT_WEIGHTED_RANDOM) policy->weight = value;
}

static void fill_transport(struct rsp_transport* transport, size_t i) {
  union rsp_address address;
  memset(&address, 0, sizeof(address));
  address.in.sin_family = AF_INET;
  address.in.sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)(i & 0xffffff));
  transportAddressBlockNew(transport, IPPROTO_SCTP, (uint16_t)(10000 + i % 50000), 0, &address, 1,
                           1);
}

static unsigned int register_element(struct handlespace_case* h, size_t pool,
                                     rsp_element_id identifier,
                                     const struct rsp_policy_settings* policy,
                                     const struct rsp_transport* transport) {
  void* node = NULL;
  unsigned int error = poolHandlespaceManagementRegisterPoolElement_SimpleRedBlackTree(
    h->handlespace, h->handles[pool], HOME_REGISTRAR, identifier, (unsigned int)REGISTRATION_LIFE_MS,
    policy, transport, NULL, -1, 0, 0, &node);
  if (error == 0) {
    /* Our register() schedules the expiry too; RSPLIB leaves the timer to its caller. */
    poolHandlespaceManagementRestartPoolElementExpiryTimer_SimpleRedBlackTree(
      h->handlespace, node, REGISTRATION_LIFE_MS * 1000ULL);
  }
  return error;
}

/* RSPLIB's handlespace checksum, computed here independently (src/poolhandlespacechecksum.c
 * semantics: 16-bit little-endian words over handle and big-endian identifier, summed in 32
 * bits, folded, complemented). */
static uint32_t element_checksum_term(const unsigned char* handle, size_t size, uint32_t id) {
  uint32_t sum = 0;
  unsigned char bytes[RSP_MAX_POOL_HANDLE + 4];
  memcpy(bytes, handle, size);
  bytes[size] = (unsigned char)(id >> 24);
  bytes[size + 1] = (unsigned char)(id >> 16);
  bytes[size + 2] = (unsigned char)(id >> 8);
  bytes[size + 3] = (unsigned char)id;
  /* the handle and the identifier are summed separately: an odd-length handle is padded */
  for (size_t i = 0; i + 1 < size; i += 2) sum += (uint32_t)bytes[i] | (uint32_t)bytes[i + 1] << 8;
  if (size % 2) sum += bytes[size - 1];
  for (size_t i = size; i < size + 4; i += 2) sum += (uint32_t)bytes[i] | (uint32_t)bytes[i + 1] << 8;
  return sum;
}

static rsp_checksum finish_checksum(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (rsp_checksum)~sum;
}

static void prepare_handlespace(struct handlespace_case* h, unsigned int policy_type) {
  size_t pools = h->pools, per_pool = h->per_pool, total = pools * per_pool;
  struct random random;
  random_seed(&random, (uint32_t)(pools * 1000003u + per_pool));

  h->handlespace = guarded(sizeof(struct rsp_handlespace), "a struct PoolHandlespaceManagement");
  poolHandlespaceManagementNew_SimpleRedBlackTree(h->handlespace, HOME_REGISTRAR, NULL, NULL,
                                                  NULL);
  ABI_CHECK(h->handlespace->handlespace.home_registrar == HOME_REGISTRAR &&
              h->handlespace->handlespace.pool_elements == 0 &&
              h->handlespace->handlespace.handlespace_checksum == 0 &&
              h->handlespace->new_pool_node == NULL && h->handlespace->notification_user_data == NULL,
            "struct PoolHandlespaceManagement fields not where declared");
  check_guards("after poolHandlespaceManagementNew()");

  h->handles = calloc(pools, sizeof(*h->handles));
  for (size_t p = 0; p < pools; p++) {
    char name[32];
    snprintf(name, sizeof(name), "Pool-%04zu", p);
    h->handles[p] = guarded(sizeof(struct rsp_pool_handle), "a struct PoolHandle");
    poolHandleNew(h->handles[p], (const unsigned char*)name, strlen(name));
    ABI_CHECK(h->handles[p]->size == strlen(name) &&
                memcmp(h->handles[p]->bytes, name, strlen(name)) == 0,
              "struct PoolHandle fields not where declared");
  }

  /* Policy values of every element, drawn in the order the TS side draws them. */
  uint32_t* values = calloc(total ? total : 1, sizeof(uint32_t));
  for (size_t k = 0; k < total; k++) {
    if (policy_type == PPT_LEASTUSED) values[k] = (uint32_t)(random_next(&random) * 4294967295.0);
    if (policy_type == PPT_WEIGHTED_RANDOM) values[k] = 1 + (uint32_t)(random_next(&random) * 100);
  }

  struct rsp_policy_settings* policy = guarded(sizeof(*policy), "a struct PoolPolicySettings");
  struct rsp_transport* transport = guarded(RSP_TRANSPORT_SIZE(1), "a struct TransportAddressBlock");
  uint32_t expected_sum = 0;
  for (size_t p = 0; p < pools; p++) {
    for (size_t i = 0; i < per_pool; i++) {
      rsp_element_id id = (rsp_element_id)(p * per_pool + i + 1);
      fill_policy(policy, policy_type, values[p * per_pool + i]);
      fill_transport(transport, i);
      if (p == 0 && i == 0) {
        ABI_CHECK(policy->type == policy_type, "struct PoolPolicySettings fields not where declared");
        ABI_CHECK(transport->protocol == IPPROTO_SCTP && transport->port == 10000 &&
                    transport->addresses == 1 && transport->flags == 0 &&
                    transport->next == NULL && transport->address[0].in.sin_family == AF_INET &&
                    transport->address[0].in.sin_port == htons(10000),
                  "struct TransportAddressBlock fields not where declared");
      }
      unsigned int error = register_element(h, p, id, policy, transport);
      ABI_CHECK(error == 0, "registering %s/%u failed with error 0x%04x", h->handles[p]->bytes,
                id, error);
      expected_sum += element_checksum_term(h->handles[p]->bytes, h->handles[p]->size, id);
    }
  }
  check_guards("after filling the handlespace");
  size_t elements = poolHandlespaceManagementGetPoolElements_SimpleRedBlackTree(h->handlespace);
  ABI_CHECK(elements == total && h->handlespace->handlespace.pool_elements == total,
            "handlespace holds %zu elements (field: %zu), expected %zu", elements,
            h->handlespace->handlespace.pool_elements, total);
  ABI_CHECK(poolHandlespaceManagementGetPools_SimpleRedBlackTree(h->handlespace) == pools,
            "handlespace holds other than %zu pools", pools);
  rsp_checksum checksum =
    poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(h->handlespace);
  ABI_CHECK(checksum == finish_checksum(expected_sum) &&
              h->handlespace->handlespace.handlespace_checksum == expected_sum,
            "handlespace checksum 0x%04x (field 0x%08x), expected 0x%04x (0x%08x)", checksum,
            h->handlespace->handlespace.handlespace_checksum, finish_checksum(expected_sum),
            expected_sum);

  /* The elements the register/deregister batches work on, as handlespace_cases.ts picks them. */
  size_t chunk = total < 1000 ? total : 1000;
  h->victims = calloc(chunk ? chunk : 1, sizeof(struct victim));
  h->victim_count = chunk;
  for (size_t k = 0; k < chunk; k++) {
    size_t p = k % pools;
    size_t i = per_pool - 1 - (k / pools) % per_pool;
    struct victim* v = &h->victims[k];
    v->pool = p;
    v->identifier = (rsp_element_id)(p * per_pool + i + 1);
    v->policy = guarded(sizeof(struct rsp_policy_settings), "a struct PoolPolicySettings");
    fill_policy(v->policy, policy_type, values[p * per_pool + i]);
    v->transport = guarded(RSP_TRANSPORT_SIZE(1), "a struct TransportAddressBlock");
    fill_transport(v->transport, i);
  }
  free(values);
  transportAddressBlockDelete(transport);
  guarded_free(transport);
  guarded_free(policy);
}

static struct batch register_batch(void* context) {
  struct handlespace_case* h = context;
  unsigned int errors = 0;
  for (size_t k = 0; k < h->victim_count; k++) {
    errors |= poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(
      h->handlespace, h->handles[h->victims[k].pool], h->victims[k].identifier);
  }
  double start = now_ns();
  for (size_t k = 0; k < h->victim_count; k++) {
    struct victim* v = &h->victims[k];
    errors |= register_element(h, v->pool, v->identifier, v->policy, v->transport);
  }
  double elapsed = now_ns() - start;
  ABI_CHECK(errors == 0, "a registration or deregistration failed (errors 0x%04x)", errors);
  return (struct batch){(double)h->victim_count, elapsed};
}

static struct batch deregister_batch(void* context) {
  struct handlespace_case* h = context;
  unsigned int errors = 0;
  double start = now_ns();
  for (size_t k = 0; k < h->victim_count; k++) {
    errors |= poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(
      h->handlespace, h->handles[h->victims[k].pool], h->victims[k].identifier);
  }
  double elapsed = now_ns() - start;
  for (size_t k = 0; k < h->victim_count; k++) {
    struct victim* v = &h->victims[k];
    errors |= register_element(h, v->pool, v->identifier, v->policy, v->transport);
  }
  ABI_CHECK(errors == 0, "a registration or deregistration failed (errors 0x%04x)", errors);
  return (struct batch){(double)h->victim_count, elapsed};
}

static struct batch resolve_batch(void* context) {
  struct handlespace_case* h = context;
  const size_t count = h->operation == RESOLVE1 ? 1 : 3;
  const size_t n = 10000;
  void* nodes[RSP_MAX_RESOLUTION_ITEMS];
  size_t resolved = 0;
  unsigned int errors = 0;
  double start = now_ns();
  for (size_t k = 0; k < n; k++) {
    size_t got = 0;
    errors |= poolHandlespaceManagementHandleResolution_SimpleRedBlackTree(
      h->handlespace, h->handles[h->next_pool], nodes, &got, count, 0);
    resolved += got;
    if (++h->next_pool == h->pools) h->next_pool = 0;
  }
  double elapsed = now_ns() - start;
  size_t expected = n * (count < h->per_pool ? count : h->per_pool);
  ABI_CHECK(errors == 0 && resolved == expected,
            "handle resolutions returned %zu elements (errors 0x%04x), expected %zu", resolved,
            errors, expected);
  return (struct batch){(double)n, elapsed};
}

static struct batch checksum_batch(void* context) {
  struct handlespace_case* h = context;
  const size_t n = 100000;
  unsigned int x = 0;
  double start = now_ns();
  for (size_t k = 0; k < n; k++) {
    x ^= poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(h->handlespace) + k;
  }
  double elapsed = now_ns() - start;
  sink ^= x;
  return (struct batch){(double)n, elapsed};
}

static unsigned int policy_type_of(const char* name) {
  if (strcmp(name, "RoundRobin") == 0) return PPT_ROUNDROBIN;
  if (strcmp(name, "Random") == 0) return PPT_RANDOM;
  if (strcmp(name, "LeastUsed") == 0) return PPT_LEASTUSED;
  if (strcmp(name, "WeightedRandom") == 0) return PPT_WEIGHTED_RANDOM;
  usage_fail("unknown policy %s", name);
  return 0;
}

static void release_handlespace(struct handlespace_case* h) {
  poolHandlespaceManagementDelete_SimpleRedBlackTree(h->handlespace);
  check_guards("after poolHandlespaceManagementDelete()");
  for (size_t k = 0; k < h->victim_count; k++) {
    transportAddressBlockDelete(h->victims[k].transport);
    guarded_free(h->victims[k].transport);
    guarded_free(h->victims[k].policy);
  }
  for (size_t p = 0; p < h->pools; p++) guarded_free(h->handles[p]);
  guarded_free(h->handlespace);
  free(h->handles);
  free(h->victims);
}

static int run_handlespace(const char* operation, const char* policy, size_t pools,
                           size_t per_pool, double round_ms, int rounds) {
  struct handlespace_case h = {0};
  batch_function run;
  if (strcmp(operation, "register") == 0) {
    h.operation = REGISTER;
    run = register_batch;
  } else if (strcmp(operation, "deregister") == 0) {
    h.operation = DEREGISTER;
    run = deregister_batch;
  } else if (strcmp(operation, "resolve1") == 0) {
    h.operation = RESOLVE1;
    run = resolve_batch;
  } else if (strcmp(operation, "resolve3") == 0) {
    h.operation = RESOLVE3;
    run = resolve_batch;
  } else if (strcmp(operation, "checksum") == 0) {
    h.operation = CHECKSUM;
    run = checksum_batch;
  } else {
    usage_fail("unknown operation %s", operation);
    return 2;
  }
  if (pools < 1 || per_pool < 1 || pools > 100000) usage_fail("bad size");
  h.pools = pools;
  h.per_pool = per_pool;
  double start = now_ns();
  prepare_handlespace(&h, policy_type_of(policy));
  double prepare_ms = (now_ns() - start) / 1e6;
  struct measurement m = measure(run, &h, round_ms, rounds);
  rsp_checksum checksum =
    poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(h.handlespace);
  size_t elements = poolHandlespaceManagementGetPoolElements_SimpleRedBlackTree(h.handlespace);
  ABI_CHECK(elements == pools * per_pool, "handlespace ended with %zu elements", elements);
  check_guards("after timing");
  release_handlespace(&h);
  printf("{\"mode\":\"handlespace\",\"elements\":%zu,\"checksum\":%u,\"prepareMs\":%.1f,", elements,
         (unsigned int)checksum, prepare_ms);
  print_measurement("rate", &m, "");
  printf(",\"checks\":%lu}\n", checks);
  return 0;
}

/* ---- Self test ------------------------------------------------------------ */

static int run_selftest(void) {
  /* A small handlespace exercises every structure we size ourselves. */
  struct handlespace_case h = {.operation = RESOLVE3, .pools = 3, .per_pool = 5};
  prepare_handlespace(&h, PPT_WEIGHTED_RANDOM);
  resolve_batch(&h);
  register_batch(&h);
  deregister_batch(&h);
  release_handlespace(&h);

  struct rsp_peer* peer = guarded(sizeof(struct rsp_peer), "a struct PeerListNode");
  struct rsp_transport* transport = guarded(RSP_TRANSPORT_SIZE(1), "a struct TransportAddressBlock");
  fill_transport(transport, 7);
  peerListNodeNew_SimpleRedBlackTree(peer, 0x1a8cb0d3, 1, transport);
  ABI_CHECK(peer->identifier == 0x1a8cb0d3 && peer->flags == 1 && peer->address_block == transport &&
              peer->user_data == NULL && peer->owner_peer_list == NULL &&
              peer->takeover_process == NULL,
            "struct PeerListNode fields not where declared");
  peerListNodeDelete_SimpleRedBlackTree(peer);
  check_guards("after peerListNodeNew()");
  guarded_free(peer);
  transportAddressBlockDelete(transport);
  guarded_free(transport);

  /* Deno needs --allow-all to read /proc, so the machine's CPU model comes from here. */
  char cpu[256] = "unknown";
  FILE* cpuinfo = fopen("/proc/cpuinfo", "r");
  if (cpuinfo != NULL) {
    char line[512];
    while (fgets(line, sizeof(line), cpuinfo) != NULL) {
      if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
        const char* value = strchr(line, ':') + 1;
        while (*value == ' ' || *value == '\t') value++;
        snprintf(cpu, sizeof(cpu), "%s", value);
        cpu[strcspn(cpu, "\n")] = 0;
        break;
      }
    }
    fclose(cpuinfo);
  }
  printf("{\"mode\":\"selftest\",\"cpu\":");
  print_json_string(cpu);
  printf(",\"sizes\":{\"RSerPoolMessage\":%zu,"
         "\"PoolHandlespaceManagement\":%zu,\"PeerListNode\":%zu,\"PoolHandle\":%zu,"
         "\"PoolPolicySettings\":%zu,\"TransportAddressBlock\":%zu},\"checks\":%lu}\n",
         sizeof(struct rsp_message), sizeof(struct rsp_handlespace), sizeof(struct rsp_peer),
         sizeof(struct rsp_pool_handle), sizeof(struct rsp_policy_settings),
         sizeof(struct rsp_transport), checks);
  return 0;
}

/* ---- Main ----------------------------------------------------------------- */

static double positive_number(const char* text, const char* what) {
  char* end;
  double value = strtod(text, &end);
  if (*end != 0 || !(value > 0)) usage_fail("%s must be a positive number, got %s", what, text);
  return value;
}

int main(int argc, char** argv) {
  initLogging("-logcolor=off");
  beginLogging(); /* RSPLIB's own messages (errors only, its default level) go to stderr */
  if (argc >= 2 && strcmp(argv[1], "selftest") == 0) return run_selftest();
  if (argc == 6 && strcmp(argv[1], "codec") == 0) {
    int rounds = (int)positive_number(argv[4], "ROUNDS");
    if (rounds > MAX_ROUNDS) usage_fail("at most %d rounds", MAX_ROUNDS);
    return run_codec(argv[2], positive_number(argv[3], "ROUND_MS"), rounds,
                     strcmp(argv[5], "1") == 0);
  }
  if (argc == 8 && strcmp(argv[1], "handlespace") == 0) {
    int rounds = (int)positive_number(argv[7], "ROUNDS");
    if (rounds > MAX_ROUNDS) usage_fail("at most %d rounds", MAX_ROUNDS);
    return run_handlespace(argv[2], argv[3], (size_t)positive_number(argv[4], "POOLS"),
                           (size_t)positive_number(argv[5], "PER_POOL"),
                           positive_number(argv[6], "ROUND_MS"), rounds);
  }
  usage_fail("usage: rsplib-harness selftest | codec FILE ROUND_MS ROUNDS STRICT | "
             "handlespace OPERATION POLICY POOLS PER_POOL ROUND_MS ROUNDS");
  return 2;
}
