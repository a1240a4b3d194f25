/*
 * ws-load: an open-loop WebSocket order load generator in C, one thread, epoll.
 *
 * Why it exists: the harness's Node load generator (bench/lib/open-loop.ts: two workers on the
 * `ws` package and a pacer thread) takes a large share of these 2-core machines at 10,000
 * orders/s, and the server it measures runs on the same cores. This one does the same job with
 * far less CPU per order, so the same server can be measured with less of the load's own cost
 * in its figures (bench:ws measures both, in the same run). No packaged native WebSocket load
 * tool does open-loop pacing with per-order latency (Debian has neither tcpkali nor a similar
 * tool), and the client side of RFC 6455 that this needs is small: the upgrade request,
 * masked text frames out, unmasked frames in, pongs. It does not check Sec-WebSocket-Accept.
 *
 * What it does, as the Node generator does (bench/lib/ws-order-protocol.ts' orderText):
 *   order j (0-based) is due at t0 + j / rate, goes on connection j % connections, carries
 *   ClOrdID <prefix><j>, and alternates BUY far below and SELL far above the market.
 *   Its latency runs from that intended time (not the time it was sent: no coordinated
 *   omission) to the first reply naming its ClOrdID that is an "ack" or a "reject".
 *   Orders due in the first warmup seconds are sent but not counted.
 *   Wake-ups are at least gap microseconds apart; each sends every order due by then.
 *
 * Usage:
 *   ws-load --port P --tokens k1,k2 [--host 127.0.0.1] [--path /v1/ws] [--connections 100]
 *           [--rate 10000] [--duration 5] [--warmup 1] [--drain 3] [--gap-us 100]
 *           [--prefix L-] [--symbol AAPL] [--tif IOC] [--qty 10] [--latencies FILE]
 * Output, lines on stdout: READY once every connection has its first frame (the clock starts
 * 1 ms later); WINDOW start and WINDOW end around the counted orders' intended times;
 * PROGRESS <ms since start> <sent> <acked> <rejected> <unsent> every 500 ms; last, RESULT and one JSON
 * object: counts over every order (warm-up included), latency percentiles (nearest rank over
 * the counted orders that were answered), how late orders went out, and this process's CPU
 * over the window.
 * --latencies FILE: per counted order, in order, two little-endian int64: its latency in ns
 * (-1: sent and unanswered by the drain deadline; -2: never sent) and how late it was sent in ns
 * (-1: never sent). "unanswered" counts sent orders only, "unsent" the others (as the Node
 * generator counts timed-out and unsent orders).
 * Exit 0 when it ran (whatever the replies), 2 on bad arguments, 1 when it could not connect.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RBUF (256 * 1024)
#define WBUF (256 * 1024)
#define MAX_CONN 4096

typedef struct {
  int fd;
  int open;
  int hello;
  int wantw; /* EPOLLOUT is armed */
  size_t rlen;
  size_t wlen;
  unsigned char r[RBUF];
  unsigned char w[WBUF];
} conn_t;

static const char *host = "127.0.0.1", *path = "/v1/ws", *prefix = "L-", *symbol = "AAPL", *tif = "IOC";
static char *tokens_arg = NULL;
static const char *latencies_path = NULL;
static int port = 0, nconn = 100, qty = 10;
static double rate = 10000, duration_s = 5, warmup_s = 1, drain_s = 3, gap_us = 100;

static conn_t *conns;
static int epfd;
static int64_t *lat_ns;     /* per order: -1 not answered, else latency */
static int64_t *lag_ns;     /* per order: how late it went out */
static unsigned char *kind; /* per order: 0 none, 1 ack, 2 reject */
static long total, first_counted;
static int64_t t0;
/* Over every order, warm-up included: sent (queued on a socket), not sent, acked, rejected. */
static long sent_n = 0, unsent_n = 0, acked_n = 0, rejected_n = 0, duplicates = 0;
static long dropped = 0, overflow = 0, other_replies = 0, unknown_replies = 0;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "ws-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(const char *why) {
  fprintf(stderr, "ws-load: %s\n", why);
  exit(2);
}

static double num_arg(const char *name, const char *v, double lo, double hi) {
  char *end;
  double d = strtod(v, &end);
  if (*v == 0 || *end != 0 || !(d >= lo && d <= hi)) {
    fprintf(stderr, "ws-load: %s must be a number in [%g, %g], got '%s'\n", name, lo, hi, v);
    exit(2);
  }
  return d;
}

/* Arms or disarms EPOLLOUT, only when that changes (one system call per change, not per flush). */
static void want_write(conn_t *c, int on) {
  if (c->wantw == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->wantw = on;
}

static void closed(conn_t *c) {
  if (c->open) dropped++;
  c->open = 0;
  c->wlen = 0; /* what it still held is lost: those orders stay unanswered */
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
}

static void flush(conn_t *c) {
  size_t off = 0;
  while (off < c->wlen) {
    ssize_t n = send(c->fd, c->w + off, c->wlen - off, MSG_NOSIGNAL);
    if (n > 0) { off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    closed(c); /* reset or closed */
    return;
  }
  memmove(c->w, c->w + off, c->wlen - off);
  c->wlen -= off;
  want_write(c, c->wlen > 0);
}

/* Appends one masked (all-zero key: the payload goes out as is) client frame. */
static int queue_frame(conn_t *c, int opcode, const char *p, size_t len) {
  size_t need = len + 8;
  if (c->wlen + need > WBUF) { overflow++; return 0; }
  unsigned char *w = c->w + c->wlen;
  size_t h = 0;
  w[h++] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    w[h++] = (unsigned char)(0x80 | len);
  } else {
    w[h++] = 0x80 | 126;
    w[h++] = (unsigned char)(len >> 8);
    w[h++] = (unsigned char)len;
  }
  memset(w + h, 0, 4);
  h += 4;
  memcpy(w + h, p, len);
  c->wlen += h + len;
  return 1;
}

static void send_order(long j) {
  conn_t *c = &conns[j % nconn];
  if (!c->open) { unsent_n++; return; }
  long k = j % nconn, nth = j / nconn;
  int buy = ((nth + k) & 1) == 0;
  char text[256];
  int len = snprintf(text, sizeof text,
    "{\"type\":\"new\",\"clOrdId\":\"%s%ld\",\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":%d,\"price\":\"%s\",\"ordType\":\"LIMIT\",\"tif\":\"%s\"}",
    prefix, j, symbol, buy ? "BUY" : "SELL", qty, buy ? "1.00" : "9999.00", tif);
  if (queue_frame(c, 1, text, (size_t)len)) {
    lag_ns[j] = now_ns() - (t0 + (int64_t)((double)j * 1e9 / rate));
    sent_n++;
  } else {
    unsent_n++;
  }
}

/* A text frame from the server: which order it answers, and how. */
static void on_text(const unsigned char *p, size_t len, int64_t now) {
  static const char ACK[] = "{\"type\":\"ack\"";
  static const char REJ[] = "{\"type\":\"reject\"";
  int k = 0;
  if (len >= sizeof ACK - 1 && memcmp(p, ACK, sizeof ACK - 1) == 0) k = 1;
  else if (len >= sizeof REJ - 1 && memcmp(p, REJ, sizeof REJ - 1) == 0) k = 2;
  if (k == 0) { other_replies++; return; }
  char key[96];
  int kl = snprintf(key, sizeof key, "\"clOrdId\":\"%s", prefix);
  const unsigned char *at = memmem(p, len, key, (size_t)kl);
  if (at == NULL) { unknown_replies++; return; }
  const unsigned char *d = at + kl, *end = p + len;
  long seq = 0;
  int digits = 0;
  while (d < end && *d >= '0' && *d <= '9' && digits < 18) { seq = seq * 10 + (*d - '0'); d++; digits++; }
  if (digits == 0 || d >= end || *d != '"' || seq >= total) { unknown_replies++; return; }
  if (kind[seq] != 0) { duplicates++; return; } /* a second answer: the first one counts */
  kind[seq] = (unsigned char)k;
  if (k == 1) acked_n++;
  else rejected_n++;
  lat_ns[seq] = now - (t0 + (int64_t)((double)seq * 1e9 / rate));
}

/* Handles every whole frame in c's read buffer; keeps a partial one. */
static void parse_frames(conn_t *c, int64_t now) {
  size_t off = 0;
  while (c->rlen - off >= 2) {
    unsigned char *f = c->r + off;
    int opcode = f[0] & 0x0f, masked = f[1] & 0x80;
    uint64_t len = f[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (c->rlen - off < 4) break;
      len = ((uint64_t)f[2] << 8) | f[3];
      h = 4;
    } else if (len == 127) {
      if (c->rlen - off < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | f[2 + i];
      h = 10;
    }
    if (masked) h += 4; /* servers do not mask; skip the key if one did */
    if (len > RBUF - h) { fprintf(stderr, "ws-load: a frame larger than %d bytes\n", RBUF); exit(1); }
    if (c->rlen - off < h + len) break;
    const unsigned char *p = f + h;
    if (opcode == 1) {
      c->hello = 1;
      on_text(p, (size_t)len, now);
    } else if (opcode == 2) {
      c->hello = 1;
      other_replies++;
    } else if (opcode == 9) {
      queue_frame(c, 10, (const char *)p, (size_t)len);
      flush(c);
    } else if (opcode == 8) {
      closed(c);
      c->rlen = 0;
      return;
    }
    off += h + len;
  }
  memmove(c->r, c->r + off, c->rlen - off);
  c->rlen -= off;
}

static void on_readable(conn_t *c, int64_t now) {
  for (;;) {
    ssize_t n = recv(c->fd, c->r + c->rlen, RBUF - c->rlen, 0);
    if (n == 0) { closed(c); return; }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) closed(c);
      return;
    }
    c->rlen += (size_t)n;
    parse_frames(c, now);
    if (!c->open) return;
  }
}

static void connect_one(conn_t *c, const char *token) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) usage("--host must be an IPv4 address");
  /* The handshake is blocking, bounded: a server that takes the connection and never answers the upgrade fails the run. */
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[1024];
  int n = snprintf(req, sizeof req,
    "GET %s?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    path, token, host, port);
  if (n < 0 || (size_t)n >= sizeof req) usage("--path or a token too long");
  if (write(fd, req, (size_t)n) != n) die("write upgrade");
  size_t got = 0;
  char *hdr_end = NULL;
  while (hdr_end == NULL) {
    if (got == RBUF) { fprintf(stderr, "ws-load: upgrade response too long\n"); exit(1); }
    ssize_t r = read(fd, c->r + got, RBUF - got);
    if (r <= 0) die("read upgrade");
    got += (size_t)r;
    hdr_end = memmem(c->r, got, "\r\n\r\n", 4);
  }
  if (got < 12 || memcmp(c->r + 9, "101", 3) != 0) {
    fprintf(stderr, "ws-load: upgrade refused: %.*s\n", (int)(got < 200 ? got : 200), (char *)c->r);
    exit(1);
  }
  size_t body = (size_t)((unsigned char *)hdr_end + 4 - c->r);
  memmove(c->r, c->r + body, got - body);
  c->rlen = got - body;
  struct timeval none = {0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  c->fd = fd;
  c->open = 1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank over sorted v[0..n), in microseconds. */
static double pct(const int64_t *v, long n, double q) {
  if (n == 0) return -1;
  long i = (long)((q / 100.0) * (double)n + 0.999999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return (double)v[i] / 1000.0;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static void poll_events(int timeout_ms, int tfd) {
  struct epoll_event evs[256];
  int n = epoll_wait(epfd, evs, 256, timeout_ms);
  for (int i = 0; i < n; i++) {
    int64_t now = now_ns(); /* per event: a reply later in the batch arrived later */
    if (evs[i].data.ptr == NULL) {
      uint64_t ticks;
      if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN) die("timerfd read");
      continue;
    }
    conn_t *c = evs[i].data.ptr;
    if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c, now);
    if ((evs[i].events & EPOLLOUT) && c->open) flush(c);
  }
}

/* One PROGRESS line: ms since t0, orders sent, acked, rejected, not sent (closed connection or
   full send buffer); all orders, warm-up included. */
static void progress(int64_t now) {
  printf("PROGRESS %.0f %ld %ld %ld %ld\n", (double)(now - t0) / 1e6, sent_n, acked_n, rejected_n, unsent_n);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) usage("every option takes a value");
    const char *v = argv[++i];
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = (int)num_arg(a, v, 1, 65535);
    else if (!strcmp(a, "--path")) path = v;
    else if (!strcmp(a, "--tokens")) tokens_arg = strdup(v);
    else if (!strcmp(a, "--connections")) nconn = (int)num_arg(a, v, 1, MAX_CONN);
    else if (!strcmp(a, "--rate")) rate = num_arg(a, v, 1, 1e6);
    else if (!strcmp(a, "--duration")) duration_s = num_arg(a, v, 0.1, 3600);
    else if (!strcmp(a, "--warmup")) warmup_s = num_arg(a, v, 0, 3600);
    else if (!strcmp(a, "--drain")) drain_s = num_arg(a, v, 0, 600);
    else if (!strcmp(a, "--gap-us")) gap_us = num_arg(a, v, 0, 1e6);
    else if (!strcmp(a, "--prefix")) prefix = v;
    else if (!strcmp(a, "--symbol")) symbol = v;
    else if (!strcmp(a, "--tif")) tif = v;
    else if (!strcmp(a, "--qty")) qty = (int)num_arg(a, v, 1, 1e9);
    else if (!strcmp(a, "--latencies")) latencies_path = v;
    else usage("unknown option");
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (port == 0 || tokens_arg == NULL) usage("--port and --tokens are required");
  if (strlen(prefix) > 40 || strlen(symbol) > 16 || strlen(tif) > 4 || strchr(prefix, '"') || strchr(symbol, '"')) usage("--prefix, --symbol or --tif too long or quoted");
  char *tokens[MAX_CONN];
  int ntok = 0;
  for (char *s = strtok(tokens_arg, ","); s != NULL && ntok < MAX_CONN; s = strtok(NULL, ",")) tokens[ntok++] = s;
  if (ntok == 0) usage("--tokens is empty");

  /* Rounded to the nearest order, as bench/lib/native-load.ts counts them. */
  total = (long)(rate * (warmup_s + duration_s) + 0.5);
  first_counted = (long)(rate * warmup_s + 0.5);
  lat_ns = malloc(sizeof(int64_t) * (size_t)total);
  lag_ns = malloc(sizeof(int64_t) * (size_t)total);
  kind = calloc((size_t)total, 1);
  conns = calloc((size_t)nconn, sizeof(conn_t));
  if (!lat_ns || !lag_ns || !kind || !conns) die("malloc");
  for (long j = 0; j < total; j++) lat_ns[j] = lag_ns[j] = -1;

  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (tfd < 0) die("timerfd_create");
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev);

  for (int k = 0; k < nconn; k++) connect_one(&conns[k], tokens[k % ntok]);
  /* Each connection's first frame (the server's hello) before the clock starts. */
  int64_t give_up = now_ns() + 10000000000LL;
  for (;;) {
    int ready = 0;
    for (int k = 0; k < nconn; k++) {
      if (!conns[k].hello && conns[k].rlen > 0) parse_frames(&conns[k], now_ns());
      ready += conns[k].hello;
    }
    if (ready == nconn) break;
    if (now_ns() > give_up) { fprintf(stderr, "ws-load: %d of %d connections sent no first frame in 10 s\n", nconn - ready, nconn); return 1; }
    poll_events(100, tfd);
  }
  other_replies = 0;

  printf("READY\n");
  t0 = now_ns() + 1000000; /* 1 ms from now */
  int64_t next_progress = t0;
  double cpu0 = -1, cpu1 = -1;
  int64_t win0 = t0 + (int64_t)(warmup_s * 1e9), win1 = t0 + (int64_t)((warmup_s + duration_s) * 1e9);
  long next = 0;
  int64_t last_wake = 0;
  int64_t gap = (int64_t)(gap_us * 1000);
  while (next < total) {
    int64_t now = now_ns();
    if (cpu0 < 0 && now >= win0) { cpu0 = cpu_us(); printf("WINDOW start\n"); }
    if (now >= next_progress) { progress(now); next_progress = now + 500000000LL; }
    long due_end = (long)((double)(now - t0) * rate / 1e9) + 1;
    if (now < t0) due_end = 0;
    if (due_end > total) due_end = total;
    if (due_end > next) {
      for (; next < due_end; next++) send_order(next);
      for (int k = 0; k < nconn; k++) if (conns[k].wlen > 0 && conns[k].open) flush(&conns[k]);
      last_wake = now;
    }
    if (next >= total) break;
    int64_t at = t0 + (int64_t)((double)next * 1e9 / rate);
    if (at < last_wake + gap) at = last_wake + gap;
    struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    poll_events(-1, tfd);
  }
  /* Drain: until every order (warm-up included) is answered, or drain_s after the last was due. */
  int64_t drain_end = win1 + (int64_t)(drain_s * 1e9);
  for (;;) {
    int64_t now = now_ns();
    if (cpu1 < 0 && now >= win1) { cpu1 = cpu_us(); printf("WINDOW end\n"); }
    if (now >= next_progress) { progress(now); next_progress = now + 500000000LL; }
    if (acked_n + rejected_n == total || now >= drain_end) break;
    int64_t left_ms = (drain_end - now) / 1000000 + 1;
    poll_events(left_ms < 20 ? (int)left_ms : 20, tfd);
  }
  if (cpu0 < 0) { cpu0 = cpu_us(); printf("WINDOW start\n"); }
  if (cpu1 < 0) { cpu1 = cpu_us(); printf("WINDOW end\n"); }

  /* Counts over every order, warm-up included (as the Node generator counts); percentiles over
     the counted ones. "unanswered": sent and never answered; unsent orders are counted apart. */
  long counted = total - first_counted, n = 0, nl = 0;
  long unanswered = sent_n - acked_n - rejected_n;
  int64_t *v = malloc(sizeof(int64_t) * (size_t)counted), *lv = malloc(sizeof(int64_t) * (size_t)counted);
  for (long j = first_counted; j < total; j++) {
    if (lag_ns[j] >= 0) lv[nl++] = lag_ns[j];
    if (kind[j] != 0) v[n++] = lat_ns[j];
  }
  qsort(v, (size_t)n, sizeof *v, cmp64);
  qsort(lv, (size_t)nl, sizeof *lv, cmp64);
  int open_now = 0;
  for (int k = 0; k < nconn; k++) open_now += conns[k].open;
  if (latencies_path != NULL) {
    FILE *f = fopen(latencies_path, "wb");
    if (f == NULL) die("open --latencies");
    for (long j = first_counted; j < total; j++) {
      int64_t pair[2] = {kind[j] != 0 ? lat_ns[j] : lag_ns[j] >= 0 ? -1 : -2, lag_ns[j]};
      if (fwrite(pair, sizeof pair, 1, f) != 1) die("write --latencies");
    }
    if (fclose(f) != 0) die("close --latencies");
  }
  printf("RESULT {\"orders\":%ld,\"acked\":%ld,\"rejected\":%ld,\"unanswered\":%ld,\"unsent\":%ld,\"sendOverflows\":%ld,\"duplicates\":%ld,"
         "\"dropped\":%ld,\"openConnections\":%d,\"otherReplies\":%ld,\"unknownReplies\":%ld,"
         "\"latencyUs\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
         "\"sendLagUs\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"cpuUs\":%.0f,\"windowS\":%.3f}\n",
         total, acked_n, rejected_n, unanswered, unsent_n, overflow, duplicates, dropped, open_now, other_replies, unknown_replies,
         pct(v, n, 50), pct(v, n, 90), pct(v, n, 99), pct(v, n, 99.9), pct(v, n, 100),
         pct(lv, nl, 50), pct(lv, nl, 99), pct(lv, nl, 100), cpu1 - cpu0, duration_s);
  for (int k = 0; k < nconn; k++) if (conns[k].fd > 0) close(conns[k].fd);
  return 0;
}
