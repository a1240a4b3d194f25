/*
 * A Kafka-protocol cluster for tests: librdkafka's built-in mock cluster (rdkafka_mock.h), which
 * speaks the Kafka protocol over real TCP on 127.0.0.1. scripts/kafka-mock.ts compiles this file
 * with gcc against Debian's librdkafka-dev and drives it.
 *
 *   kafka-mock <brokers> [partitions] [topic ...]
 *
 * Creates the named topics with [partitions] partitions each (other topics are auto-created by
 * the mock with its default partition count), prints "BOOTSTRAPS <host:port,...>" once the cluster listens, then reads commands on stdin,
 * one per line, answering each with "OK <command>" (or "ERR <why>"):
 *
 *   down <id>       broker <id> (1..brokers) closes its connections and refuses new ones
 *   up <id>         broker <id> serves again (the cluster keeps its data)
 *   down all / up all
 *   rtt <id> <ms>   adds round-trip delay to broker <id>
 *   topic <name> <partitions>   creates a topic (otherwise topics are auto-created)
 *   quit            stops the cluster (so does the end of stdin, or SIGTERM)
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int set_broker(rd_kafka_mock_cluster_t *mc, int brokers, const char *which, int up) {
  int from = 1, to = brokers;
  if (strcmp(which, "all") != 0) {
    from = to = atoi(which);
    if (from < 1 || from > brokers) return -1;
  }
  for (int id = from; id <= to; id++) {
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
    if (err) return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  int partitions = argc > 2 ? atoi(argv[2]) : 4;
  if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 64) {
    fprintf(stderr, "usage: kafka-mock <brokers 1..16> [partitions 1..64]\n");
    return 2;
  }
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (mc == NULL) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  for (int i = 3; i < argc; i++) {
    if (rd_kafka_mock_topic_create(mc, argv[i], partitions, 1)) {
      fprintf(stderr, "cannot create topic %s\n", argv[i]);
      return 1;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("BOOTSTRAPS %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[256];
  while (!stop_requested && fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\r\n")] = 0;
    char cmd[32] = {0}, arg1[64] = {0}, arg2[64] = {0};
    int n = sscanf(line, "%31s %63s %63s", cmd, arg1, arg2);
    if (n <= 0) continue;
    int rc = 0;
    if (strcmp(cmd, "quit") == 0) break;
    else if (strcmp(cmd, "down") == 0 && n >= 2) rc = set_broker(mc, brokers, arg1, 0);
    else if (strcmp(cmd, "up") == 0 && n >= 2) rc = set_broker(mc, brokers, arg1, 1);
    else if (strcmp(cmd, "rtt") == 0 && n == 3) rc = rd_kafka_mock_broker_set_rtt(mc, atoi(arg1), atoi(arg2)) ? -1 : 0;
    else if (strcmp(cmd, "topic") == 0 && n == 3) rc = rd_kafka_mock_topic_create(mc, arg1, atoi(arg2), 1) ? -1 : 0;
    else rc = -2;
    if (rc == 0) printf("OK %s\n", line);
    else printf("ERR %s\n", rc == -2 ? "unknown command" : line);
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
