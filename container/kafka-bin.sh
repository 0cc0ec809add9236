#!/bin/bash
# The few bin/ scripts of a Kafka distribution that the kafkatune image needs, in one file: the
# image links kafka-run-class.sh, kafka-server-start.sh, kafka-storage.sh, kafka-topics.sh,
# kafka-metadata-quorum.sh and kafka-consumer-groups.sh here and this picks by the name called.
# Options come from the same variables as upstream: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS,
# KAFKA_LOG4J_OPTS, KAFKA_JMX_OPTS, KAFKA_OPTS.
set -euo pipefail
base=/opt/kafka

run_class() {
  : "${KAFKA_HEAP_OPTS:=-Xmx256M}"
  : "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
  : "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}"
  # Word splitting of the *_OPTS variables is intended: each holds several JVM flags.
  # shellcheck disable=SC2086
  exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_JMX_OPTS:-} $KAFKA_LOG4J_OPTS \
    -Dkafka.logs.dir="$base/logs" -cp "$base/libs/*" ${KAFKA_OPTS:-} "$@"
}

case "$(basename "$0")" in
  kafka-run-class.sh) run_class "$@" ;;
  kafka-server-start.sh)
    : "${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
    : "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base/config/log4j2.yaml}"
    run_class kafka.Kafka "$@" ;;
  kafka-storage.sh) run_class kafka.tools.StorageTool "$@" ;;
  kafka-topics.sh) run_class org.apache.kafka.tools.TopicCommand "$@" ;;
  kafka-metadata-quorum.sh) run_class org.apache.kafka.tools.MetadataQuorumCommand "$@" ;;
  kafka-consumer-groups.sh) run_class org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
  *) echo "kafka-bin.sh: unknown command $(basename "$0")" >&2; exit 2 ;;
esac
