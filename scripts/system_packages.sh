#!/usr/bin/env bash
# Debian packages the tests use: PortAudio + PulseAudio for the virtual microphone, qemu-user + debootstrap
# for the emulated ARM64 runtime, arm-none-eabi-gcc + newlib + qemu-system-arm for the C frontend on an
# emulated Cortex-M4F (tests/test_c_frontend.py), Mosquitto for the MQTT tests (tests/test_mqtt.py starts its own
# broker on a loopback port; the package's system service is not needed). Skipped (the tests that need them then skip, saying why) without root/apt.
set -uo pipefail
PACKAGES="libsndfile1 libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins qemu-user-static debootstrap
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm mosquitto mosquitto-clients"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "== system packages: not root or no apt-get; install yourself: $PACKAGES" >&2
  exit 0
fi
# "install ok installed", not just known to dpkg: a removed package whose config files remain still answers
# `dpkg -s` with success.
missing=$(for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
done)
if [ -n "$missing" ]; then
  echo "== apt-get install $missing"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }) \
    || echo "== warning: apt-get install failed; microphone/ARM64 tests will skip" >&2
fi
