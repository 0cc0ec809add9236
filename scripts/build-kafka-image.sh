#!/usr/bin/env bash
# Build the kafkatune Kafka image with Podman, offline from registries: a Debian bookworm rootfs
# (debootstrap, minbase + openjdk-17-jre-headless), the same pinned Apache Kafka jars the local broker
# uses (kafka/pom.xml, same cache folder as ensureKafkaJars()), and an entrypoint configured by KAFKA_* variables like the
# official apache/kafka image (container/). Prints the image reference on stdout, e.g.
#   export KAFKATUNE_KAFKA_IMAGE="$(scripts/build-kafka-image.sh)"
# The tag is a hash of the inputs: an existing image is reused at once. The rootfs tarball is cached in
# ~/.cache/kafkatune (KAFKATUNE_CACHE_DIR / XDG_CACHE_HOME), so a rebuild after an input change skips
# debootstrap. Without podman (e.g. a Docker engine is there) it prints nothing: users pull apache/kafka.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[build-kafka-image] %s\n' "$*" >&2; }

if ! command -v podman >/dev/null 2>&1; then
  log "podman not found: nothing to build (container mode uses apache/kafka from a registry)"
  exit 0
fi

cache="${KAFKATUNE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafkatune}"
mkdir -p "$cache"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/kafka/pom.xml" | head -1)"
[ -n "$kafka_version" ] || { log "no <kafka.version> in kafka/pom.xml"; exit 1; }

suite=bookworm
packages=openjdk-17-jre-headless
base_key="$(printf '%s\n' "$suite" minbase "$packages" v1 | sha256sum | cut -c1-12)"
base_tar="$cache/rootfs-$suite-minbase-jre17-$base_key.tar"

tag="$(cat "$root/kafka/pom.xml" "$root/container/"* "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)"
image="localhost/kafkatune-kafka:$kafka_version-$tag"

if podman image exists "$image"; then
  log "$image is up to date"
  echo "$image"
  exit 0
fi

started=$SECONDS
# The Debian archive this machine's apt already uses (deb822 .sources first, then sources.list), not a security one.
apt_mirror() {
  local uri
  uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' || true)"
  if [ -z "$uri" ]; then
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } break } }' || true)"
  fi
  printf '%s' "$uri"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if [ ! -f "$base_tar" ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap (apt)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  mirror="${KAFKATUNE_DEBIAN_MIRROR:-$(apt_mirror)}"
  [ -n "$mirror" ] || { echo "build-kafka-image: no Debian archive in this machine's apt sources; set KAFKATUNE_DEBIAN_MIRROR" >&2; exit 1; }
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'as_root rm -rf "$rootfs"' EXIT
  log "debootstrap $suite (minbase + $packages) from $mirror"
  as_root debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # What a broker never reads: package caches, docs, man pages, locales.
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale "$rootfs"/usr/share/info
  as_root tar -C "$rootfs" -cf "$base_tar.partial" .
  mv "$base_tar.partial" "$base_tar"
  as_root rm -rf "$rootfs"
  trap - EXIT
  log "rootfs cached at $base_tar ($(du -h "$base_tar" | cut -f1), $((SECONDS - started)) s)"
fi

# The same jars the local broker runs, in the folder ensureKafkaJars() (src/testing/jars.ts) uses:
# <cache>/kafka-<version>/libs, complete when it holds .kafkatune-complete. Fetched here with Maven from
# kafka/pom.xml when missing (not through dist/, so this can run while `npm run build` rewrites it).
libs="$cache/kafka-$kafka_version/libs"
if [ ! -f "$libs/.kafkatune-complete" ]; then
  mkdir -p "$cache/kafka-$kafka_version"
  work="$(mktemp -d "$cache/kafka-$kafka_version/fetch-sh-XXXXXX")"
  cp "$root/kafka/pom.xml" "$work/pom.xml"
  log "fetching Kafka $kafka_version jars with Maven"
  (cd "$work" && mvn -B -q -Dstyle.color=never validate -Dkafkatune.libs="$work/libs") >"$work/mvn.log" 2>&1 ||
    { cat "$work/mvn.log" >&2; exit 1; }
  printf '%s\n' "$kafka_version" >"$work/libs/.kafkatune-complete"
  # If a concurrent ensureKafkaJars() got there first, its folder is as good as ours.
  mv -T "$work/libs" "$libs" 2>/dev/null || true
  rm -rf "$work"
fi
[ -f "$libs/kafka_2.13-$kafka_version.jar" ] || { log "no kafka_2.13-$kafka_version.jar in $libs"; exit 1; }

# The image is the cached rootfs plus one more tar of /opt/kafka and /etc/kafka/docker, appended.
stage="$(mktemp -d "$cache/image.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/opt/kafka/libs" "$stage/opt/kafka/bin" "$stage/opt/kafka/config" "$stage/opt/kafka/logs" \
  "$stage/etc/kafka/docker" "$stage/mnt/shared/config" "$stage/var/lib/kafka/data" "$stage/etc/kafka/secrets"
cp "$libs"/*.jar "$stage/opt/kafka/libs/"
install -m 0755 "$root/container/run" "$stage/etc/kafka/docker/run"
install -m 0755 "$root/container/kafka-bin.sh" "$stage/opt/kafka/bin/kafka-bin.sh"
for name in kafka-run-class.sh kafka-server-start.sh kafka-storage.sh kafka-topics.sh kafka-metadata-quorum.sh kafka-consumer-groups.sh; do
  ln -s kafka-bin.sh "$stage/opt/kafka/bin/$name"
done
# No server.properties: the wrapper writes it from the KAFKA_* variables of the harness's broker plan
# (src/testing/broker-plan.ts), which are passed at run time, so a plan change needs no new image.
install -m 0644 "$root/container/log4j2.yaml" "$root/container/tools-log4j2.yaml" "$stage/etc/kafka/docker/"
printf '%s\n' "$kafka_version" >"$stage/opt/kafka/VERSION"
cp "$base_tar" "$stage/image.tar"
tar -C "$stage" --owner=0 --group=0 -rf "$stage/image.tar" ./opt/kafka ./etc/kafka ./mnt/shared ./var/lib/kafka

log "importing $image"
podman import \
  --change 'CMD ["/etc/kafka/docker/run"]' \
  --change 'ENV PATH=/opt/kafka/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV KAFKA_VERSION=$kafka_version" \
  --change 'EXPOSE 9092' \
  --change 'WORKDIR /opt/kafka' \
  --change "LABEL dev.kafkatune.inputs=$tag" \
  --quiet "$stage/image.tar" "$image" >/dev/null
log "built $image in $((SECONDS - started)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
# Older builds of this image are dead weight (a few hundred MB each); keep only this one.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/kafkatune-kafka 2>/dev/null); do
  [ "$old" = "$image" ] || podman rmi "$old" >/dev/null 2>&1 || true
done
echo "$image"
