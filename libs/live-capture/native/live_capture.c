/*
 * callscope live capture: libpcap on plain Node-API (no node-addon-api), see ../README.md.
 *
 * One handle = one pcap_t opened with pcap_create/pcap_activate in non-blocking mode, NOT in
 * immediate mode (so Linux libpcap uses TPACKET_V3: the kernel fills blocks of many packets and
 * hands a block over when it is full or the block timeout expires). A uv_poll watcher on the
 * pcap selectable fd runs pcap_dispatch on the event-loop thread; each packet is copied into the
 * batch data buffer and described by one header (HEADER_WORDS uint32: ts sec, ts nsec, caplen,
 * len, offset). When the batch is full or the ring is drained the addon calls onBatch(count)
 * ONCE; JavaScript reads the batch synchronously, and the addon reuses both buffers after the
 * callback returns (the contract of the TypeScript side).
 *
 * Memory safety (the defect of `cap` 0.2.1): both buffers are ArrayBuffers the addon creates
 * itself and holds through a strong napi_ref for as long as the handle is open. Whatever JS does
 * with its views, the memory the addon writes into cannot be freed under it. An open handle also
 * holds its own JS object strongly (a capture runs until close(), like a socket); after close()
 * the object becomes collectable and its finaliser frees the C state.
 */
#include <node_api.h>
#include <pcap/pcap.h>
#include <uv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_WORDS 5
#define MAX_SNAPLEN 262144
#define MIN_BUFFER_BYTES (1024 * 1024)
#define MAX_BUFFER_BYTES (4096LL * 1024 * 1024 - 1)
#define MAX_BATCH_BYTES (256 * 1024 * 1024)
/* Batches delivered per readiness callback at most, so other event-loop work runs in between
 * (the fd stays readable while the ring holds packets: libuv calls again at once). */
#define MAX_BATCHES_PER_WAKEUP 16

typedef struct Capture {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t *poll;
  napi_ref self;
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref headers_ref;
  napi_ref data_ref;
  napi_async_context async;
  uint32_t *headers;
  uint8_t *data;
  uint32_t batch_packets;
  uint32_t data_cap;
  uint32_t snaplen;
  uint32_t count;
  uint32_t data_used;
  int nano;
  int open;
  int dispatching;
  int close_pending;
  /* own counters */
  double batches, packets, bytes, truncated, overflow;
  /* pcap_stats at close, so stats() still answers afterwards */
  struct pcap_stat last;
  int have_last;
} Capture;

/* ---- small helpers ---------------------------------------------------------------------- */

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      const napi_extended_error_info *info_;                                                   \
      napi_get_last_error_info(env, &info_);                                                   \
      bool pending_;                                                                           \
      napi_is_exception_pending(env, &pending_);                                               \
      if (!pending_) napi_throw_error(env, NULL, info_->error_message ? info_->error_message : "napi call failed"); \
      return NULL;                                                                             \
    }                                                                                          \
  } while (0)

/* Reads options[name]; returns 0 when absent (undefined), 1 when present, -1 on error (thrown). */
static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out, napi_valuetype *type) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return -1;
  if (!has) return 0;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return -1;
  if (napi_typeof(env, *out, type) != napi_ok) return -1;
  return *type == napi_undefined ? 0 : 1;
}

/* Integer option in [min, max] or its default; throws TypeError/RangeError with the numbers. */
static int get_int(napi_env env, napi_value obj, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out) {
  napi_value v;
  napi_valuetype t;
  int r = get_prop(env, obj, name, &v, &t);
  if (r < 0) return -1;
  if (r == 0) {
    *out = def;
    return 0;
  }
  char msg[200];
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "option %s must be a number", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) {
    snprintf(msg, sizeof msg, "option %s must be an integer from %lld to %lld, not %g", name, (long long)min, (long long)max, d);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return -1;
  }
  *out = (int64_t)d;
  return 0;
}

/* String option (malloc'd, caller frees) or NULL when absent and not required. */
static int get_string(napi_env env, napi_value obj, const char *name, int required, char **out) {
  napi_value v;
  napi_valuetype t;
  char msg[200];
  *out = NULL;
  int r = get_prop(env, obj, name, &v, &t);
  if (r < 0) return -1;
  if (r == 0) {
    if (!required) return 0;
    snprintf(msg, sizeof msg, "option %s is required (a string)", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  if (t != napi_string) {
    snprintf(msg, sizeof msg, "option %s must be a string", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  *out = malloc(len + 1);
  if (*out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 0;
}

static napi_value make_error(napi_env env, const char *msg) {
  napi_value m, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  return e;
}

/* ---- closing ------------------------------------------------------------------------------ */

static void free_poll(uv_handle_t *h) { free(h); }
static void cleanup_hook(void *arg);

/* Stops the watcher, closes libpcap and drops every reference; idempotent. */
static void do_close(Capture *c, int from_hook) {
  if (!c->open) return;
  napi_env env = c->env;
  c->open = 0;
  c->close_pending = 0;
  if (c->poll != NULL) {
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, free_poll);
    c->poll = NULL;
  }
  if (c->pcap != NULL) {
    if (pcap_stats(c->pcap, &c->last) == 0) c->have_last = 1;
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
  if (!from_hook) napi_remove_env_cleanup_hook(env, cleanup_hook, c);
  if (c->on_batch) napi_delete_reference(env, c->on_batch);
  if (c->on_error) napi_delete_reference(env, c->on_error);
  if (c->headers_ref) napi_delete_reference(env, c->headers_ref);
  if (c->data_ref) napi_delete_reference(env, c->data_ref);
  c->on_batch = c->on_error = c->headers_ref = c->data_ref = NULL;
  /* The buffers are JS-owned from here on; the addon never writes again. */
  c->headers = NULL;
  c->data = NULL;
  if (c->async) napi_async_destroy(env, c->async);
  c->async = NULL;
  if (c->self) napi_reference_unref(env, c->self, NULL);
}

/* The Node environment is going away with the handle still open (process exit). */
static void cleanup_hook(void *arg) { do_close((Capture *)arg, 1); }

static void finalize(napi_env env, void *data, void *hint) {
  Capture *c = data;
  do_close(c, 0); /* only when the environment tears down an open handle */
  if (c->self) napi_delete_reference(env, c->self);
  free(c);
}

/* ---- capture path ------------------------------------------------------------------------- */

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  Capture *c = (Capture *)user;
  uint32_t cl = h->caplen;
  if (c->count >= c->batch_packets || cl > c->data_cap - c->data_used) {
    /* Cannot happen with the breakloop below (room for one snaplen packet is always kept);
     * counted rather than written out of bounds if libpcap ever delivers more. */
    c->overflow++;
    pcap_breakloop(c->pcap);
    return;
  }
  memcpy(c->data + c->data_used, bytes, cl);
  uint32_t *hd = c->headers + (size_t)c->count * HEADER_WORDS;
  hd[0] = (uint32_t)h->ts.tv_sec;
  hd[1] = (uint32_t)(c->nano ? h->ts.tv_usec : h->ts.tv_usec * 1000);
  hd[2] = cl;
  hd[3] = h->len;
  hd[4] = c->data_used;
  c->data_used += cl;
  c->count++;
  c->packets++;
  c->bytes += cl;
  if (cl < h->len) c->truncated++;
  if (c->count >= c->batch_packets || c->data_cap - c->data_used < c->snaplen) pcap_breakloop(c->pcap);
}

/* Calls a JS callback held in `ref` with one argument through node's MakeCallback (microtasks
 * run after it, a throw goes to process 'uncaughtException' as an event listener's would). */
static void call_js(Capture *c, napi_ref ref, napi_value arg) {
  napi_env env = c->env;
  napi_value fn, self, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_reference_value(env, c->self, &self);
  napi_make_callback(env, c->async, self, fn, 1, &arg, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static void deliver(Capture *c) {
  if (c->count == 0) return;
  napi_value n;
  napi_create_uint32(c->env, c->count, &n);
  c->batches++;
  call_js(c, c->on_batch, n);
  /* JS consumed the batch synchronously: both buffers are free again. */
  c->count = 0;
  c->data_used = 0;
}

static void on_readable(uv_poll_t *w, int status, int events) {
  Capture *c = w->data;
  if (!c->open) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  c->dispatching = 1;
  char errbuf[PCAP_ERRBUF_SIZE + 64];
  errbuf[0] = 0;
  if (status < 0) snprintf(errbuf, sizeof errbuf, "poll on the capture descriptor failed: %s", uv_strerror(status));
  for (int round = 0; round < MAX_BATCHES_PER_WAKEUP && errbuf[0] == 0 && !c->close_pending; round++) {
    int room = (int)(c->batch_packets - c->count);
    int n = pcap_dispatch(c->pcap, room, on_packet, (u_char *)c);
    if (n == PCAP_ERROR) {
      snprintf(errbuf, sizeof errbuf, "%s", pcap_geterr(c->pcap));
      break;
    }
    int full = c->count >= c->batch_packets || c->data_cap - c->data_used < c->snaplen;
    if (full) deliver(c);
    else if (n == 0) break; /* drained */
  }
  if (c->open && !c->close_pending) deliver(c);
  if (errbuf[0] != 0 && c->open) {
    napi_value e = make_error(env, errbuf);
    napi_ref on_error = c->on_error;
    c->on_error = NULL;
    c->close_pending = 1;
    if (on_error) {
      call_js(c, on_error, e);
      napi_delete_reference(env, on_error);
    }
  }
  c->dispatching = 0;
  if (c->close_pending) do_close(c, 0);
  napi_close_handle_scope(env, scope);
}

/* ---- methods ------------------------------------------------------------------------------ */

static Capture *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a live capture handle");
    return NULL;
  }
  return p;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture *c = unwrap_this(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  if (c->dispatching) c->close_pending = 1; /* inside onBatch: closed when pcap_dispatch is done */
  else do_close(c, 0);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value m_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture *c = unwrap_this(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  struct pcap_stat ps;
  memset(&ps, 0, sizeof ps);
  if (c->pcap != NULL) {
    if (pcap_stats(c->pcap, &ps) != 0) return throw_error(env, NULL, pcap_geterr(c->pcap));
  } else if (c->have_last) {
    ps = c->last;
  }
  napi_value o;
  CHECK(napi_create_object(env, &o));
  set_num(env, o, "received", ps.ps_recv);
  set_num(env, o, "kernelDrops", ps.ps_drop);
  set_num(env, o, "ifDrops", ps.ps_ifdrop);
  set_num(env, o, "batches", c->batches);
  set_num(env, o, "packets", c->packets);
  set_num(env, o, "bytes", c->bytes);
  set_num(env, o, "truncated", c->truncated);
  set_num(env, o, "batchOverflow", c->overflow);
  return o;
}

static napi_value m_set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Capture *c = unwrap_this(env, info, &argc, argv);
  if (c == NULL) return NULL;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setFilter(filter): filter must be a string");
    return NULL;
  }
  if (c->pcap == NULL) return throw_error(env, "ERR_CAPTURE_CLOSED", "setFilter: the capture is closed");
  size_t len;
  napi_get_value_string_utf8(env, argv[0], NULL, 0, &len);
  char *f = malloc(len + 1);
  if (f == NULL) return throw_error(env, NULL, "out of memory");
  napi_get_value_string_utf8(env, argv[0], f, len + 1, &len);
  struct bpf_program prog;
  char msg[PCAP_ERRBUF_SIZE + 300];
  if (pcap_compile(c->pcap, &prog, f, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(msg, sizeof msg, "%s (filter \"%.200s\")", pcap_geterr(c->pcap), f);
    free(f);
    return throw_error(env, "ERR_CAPTURE_FILTER", msg);
  }
  int r = pcap_setfilter(c->pcap, &prog);
  pcap_freecode(&prog);
  if (r != 0) {
    snprintf(msg, sizeof msg, "cannot set capture filter \"%.200s\": %s", f, pcap_geterr(c->pcap));
    free(f);
    return throw_error(env, "ERR_CAPTURE_FILTER", msg);
  }
  free(f);
  return NULL;
}

static napi_value m_inject(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Capture *c = unwrap_this(env, info, &argc, argv);
  if (c == NULL) return NULL;
  bool is_ta = false;
  if (argc >= 1) napi_is_typedarray(env, argv[0], &is_ta);
  if (!is_ta) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "inject(frame): frame must be a Uint8Array or Buffer");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "inject(frame): frame must be a Uint8Array or Buffer");
    return NULL;
  }
  if (c->pcap == NULL) return throw_error(env, "ERR_CAPTURE_CLOSED", "inject: the capture is closed");
  int n = pcap_inject(c->pcap, data, length);
  if (n < 0) {
    char msg[PCAP_ERRBUF_SIZE + 64];
    snprintf(msg, sizeof msg, "inject: %s", pcap_geterr(c->pcap));
    return throw_error(env, "ERR_CAPTURE_INJECT", msg);
  }
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

/* ---- open --------------------------------------------------------------------------------- */

static void set_str(napi_env env, napi_value obj, const char *name, const char *s) {
  napi_value v;
  if (s == NULL) napi_get_null(env, &v);
  else napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

/*
 * open(options, onBatch, onError?) -> handle. options: device (required), filter (""),
 * snaplen (65535), bufferBytes (64 MiB), timeoutMs (100), batchBytes (max(1 MiB, 4 snaplen)),
 * batchPackets (16384), promisc (true), nanoseconds (true).
 */
static napi_value m_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined, t2 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (argc >= 3) napi_typeof(env, argv[2], &t2);
  if (t0 != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(options, onBatch, onError): options must be an object");
    return NULL;
  }
  if (t1 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(options, onBatch, onError): onBatch must be a function");
    return NULL;
  }
  if (t2 != napi_function && t2 != napi_undefined) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(options, onBatch, onError): onError must be a function");
    return NULL;
  }
  int64_t snaplen, buffer_bytes, timeout_ms, batch_bytes, batch_packets;
  if (get_int(env, argv[0], "snaplen", 65535, 64, MAX_SNAPLEN, &snaplen) < 0) return NULL;
  if (get_int(env, argv[0], "bufferBytes", 64LL * 1024 * 1024, MIN_BUFFER_BYTES, MAX_BUFFER_BYTES, &buffer_bytes) < 0) return NULL;
  if (get_int(env, argv[0], "timeoutMs", 100, 1, 60000, &timeout_ms) < 0) return NULL;
  int64_t def_batch = snaplen * 4 > 1024 * 1024 ? snaplen * 4 : 1024 * 1024;
  if (get_int(env, argv[0], "batchBytes", def_batch, snaplen, MAX_BATCH_BYTES, &batch_bytes) < 0) return NULL;
  if (get_int(env, argv[0], "batchPackets", 16384, 1, 1 << 20, &batch_packets) < 0) return NULL;
  int promisc = 1, want_nano = 1;
  {
    napi_value v;
    napi_valuetype t;
    int r = get_prop(env, argv[0], "promisc", &v, &t);
    if (r < 0) return NULL;
    if (r == 1) {
      bool b;
      if (t != napi_boolean) return napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "option promisc must be a boolean"), NULL;
      napi_get_value_bool(env, v, &b);
      promisc = b;
    }
    r = get_prop(env, argv[0], "nanoseconds", &v, &t);
    if (r < 0) return NULL;
    if (r == 1) {
      bool b;
      if (t != napi_boolean) return napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "option nanoseconds must be a boolean"), NULL;
      napi_get_value_bool(env, v, &b);
      want_nano = b;
    }
  }
  char *device = NULL, *filter = NULL;
  if (get_string(env, argv[0], "device", 1, &device) < 0) return NULL;
  if (device[0] == 0) {
    free(device);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "option device must not be empty");
    return NULL;
  }
  if (get_string(env, argv[0], "filter", 0, &filter) < 0) {
    free(device);
    return NULL;
  }

  /* From here every failure closes what was opened: nothing is left half-open. */
  char errbuf[PCAP_ERRBUF_SIZE];
  char msg[PCAP_ERRBUF_SIZE * 2 + 400];
  char warning[PCAP_ERRBUF_SIZE + 100];
  warning[0] = 0;
  errbuf[0] = 0;
  int nano = 0;
  const char *code = "ERR_CAPTURE_OPEN";
  pcap_t *p = pcap_create(device, errbuf);
  if (p == NULL) {
    snprintf(msg, sizeof msg, "cannot capture on \"%s\": %s", device, errbuf);
    goto fail;
  }
  pcap_set_snaplen(p, (int)snaplen);
  pcap_set_buffer_size(p, (int)buffer_bytes);
  pcap_set_timeout(p, (int)timeout_ms);
  pcap_set_promisc(p, promisc);
  /* Not immediate mode: libpcap then uses TPACKET_V3 (blocks of many packets), not one frame
   * per packet sized for the largest TSO/GSO packet. */
  pcap_set_immediate_mode(p, 0);
  if (want_nano && pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0) nano = 1;
  int act = pcap_activate(p);
  if (act < 0) {
    const char *detail = (act == PCAP_ERROR || act == PCAP_ERROR_NO_SUCH_DEVICE || act == PCAP_ERROR_PERM_DENIED) ? pcap_geterr(p) : "";
    if (strcmp(detail, pcap_statustostr(act)) == 0) detail = "";
    snprintf(msg, sizeof msg, "cannot capture on \"%s\": %s%s%s", device, pcap_statustostr(act), detail[0] ? ": " : "", detail);
    goto fail;
  }
  if (act > 0) {
    const char *detail = (act == PCAP_WARNING) ? pcap_geterr(p) : "";
    snprintf(warning, sizeof warning, "%s%s%s", pcap_statustostr(act), detail[0] ? ": " : "", detail);
  }
  if (nano && pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_NANO) nano = 0;
  if (filter != NULL && filter[0] != 0) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      snprintf(msg, sizeof msg, "cannot capture on \"%s\": %s (filter \"%.200s\")", device, pcap_geterr(p), filter);
      code = "ERR_CAPTURE_FILTER";
      goto fail;
    }
    int r = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (r != 0) {
      snprintf(msg, sizeof msg, "cannot capture on \"%s\": cannot set filter: %s", device, pcap_geterr(p));
      code = "ERR_CAPTURE_FILTER";
      goto fail;
    }
  }
  if (pcap_setnonblock(p, 1, errbuf) != 0) {
    snprintf(msg, sizeof msg, "cannot capture on \"%s\": %s", device, errbuf);
    goto fail;
  }
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) {
    snprintf(msg, sizeof msg, "cannot capture on \"%s\": libpcap gives no selectable descriptor", device);
    goto fail;
  }

  Capture *c = calloc(1, sizeof *c);
  uv_poll_t *poll = malloc(sizeof *poll);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  if (c == NULL || poll == NULL || loop == NULL || uv_poll_init(loop, poll, fd) != 0) {
    free(c);
    free(poll);
    snprintf(msg, sizeof msg, "cannot capture on \"%s\": cannot watch the capture descriptor", device);
    goto fail;
  }
  c->env = env;
  c->pcap = p;
  c->poll = poll;
  poll->data = c;
  c->snaplen = (uint32_t)snaplen;
  c->data_cap = (uint32_t)batch_bytes;
  c->batch_packets = (uint32_t)batch_packets;
  c->nano = nano;
  c->open = 1;

  /* The JS side: handle object, the two buffers and the callbacks, all held by the addon. */
  napi_value obj, hbuf, dbuf, name;
  void *hptr, *dptr;
  napi_status st = napi_create_object(env, &obj);
  if (st == napi_ok) st = napi_create_arraybuffer(env, (size_t)batch_packets * HEADER_WORDS * 4, &hptr, &hbuf);
  if (st == napi_ok) st = napi_create_arraybuffer(env, (size_t)batch_bytes, &dptr, &dbuf);
  if (st == napi_ok) st = napi_create_reference(env, hbuf, 1, &c->headers_ref);
  if (st == napi_ok) st = napi_create_reference(env, dbuf, 1, &c->data_ref);
  if (st == napi_ok) st = napi_create_reference(env, argv[1], 1, &c->on_batch);
  if (st == napi_ok && t2 == napi_function) st = napi_create_reference(env, argv[2], 1, &c->on_error);
  if (st == napi_ok) st = napi_create_string_utf8(env, "callscope:live-capture", NAPI_AUTO_LENGTH, &name);
  if (st == napi_ok) st = napi_async_init(env, obj, name, &c->async);
  if (st == napi_ok) st = napi_wrap(env, obj, c, finalize, NULL, &c->self);
  if (st != napi_ok) {
    /* Not wrapped: release by hand (do_close without a self ref), then the C state. */
    do_close(c, 1);
    free(c);
    free(device);
    free(filter);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, NULL, "live capture: out of memory while opening");
    return NULL;
  }
  c->headers = hptr;
  c->data = dptr;
  napi_reference_ref(env, c->self, NULL); /* an open capture is not collected */
  napi_add_env_cleanup_hook(env, cleanup_hook, c);
  napi_property_descriptor methods[] = {
      {"close", NULL, m_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, m_stats, NULL, NULL, NULL, napi_default, NULL},
      {"setFilter", NULL, m_set_filter, NULL, NULL, NULL, napi_default, NULL},
      {"inject", NULL, m_inject, NULL, NULL, NULL, napi_default, NULL},
      {"headers", NULL, NULL, NULL, NULL, hbuf, napi_enumerable, NULL},
      {"data", NULL, NULL, NULL, NULL, dbuf, napi_enumerable, NULL},
  };
  napi_define_properties(env, obj, sizeof methods / sizeof methods[0], methods);
  set_num(env, obj, "linkType", pcap_datalink(p));
  set_str(env, obj, "precision", nano ? "nano" : "micro");
  set_str(env, obj, "warning", warning[0] ? warning : NULL);
  set_num(env, obj, "snaplen", (double)pcap_snapshot(p));
  set_num(env, obj, "batchPackets", (double)batch_packets);
  if (uv_poll_start(poll, UV_READABLE, on_readable) != 0) {
    do_close(c, 0);
    free(device);
    free(filter);
    return throw_error(env, NULL, "live capture: cannot start watching the capture descriptor");
  }
  free(device);
  free(filter);
  return obj;

fail:
  if (p != NULL) pcap_close(p);
  free(device);
  free(filter);
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value m_lib_version(napi_env env, napi_callback_info info) {
  napi_value v;
  napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, m_open, NULL, NULL, NULL, napi_default, NULL},
      {"libVersion", NULL, m_lib_version, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value words;
  napi_create_uint32(env, HEADER_WORDS, &words);
  napi_set_named_property(env, exports, "HEADER_WORDS", words);
  return exports;
}
