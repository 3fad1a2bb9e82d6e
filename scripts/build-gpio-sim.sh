#!/usr/bin/env bash
# Builds gpio-sim (with the irq_sim helper it needs) as an out-of-tree module for the installed
# Debian kernel, whose config leaves both out. Prints the module's path.
#   apt-get install linux-headers-<version of /boot/vmlinuz-*> linux-source-6.1
set -euo pipefail
KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
VERSION=${KERNEL#/boot/vmlinuz-}
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT"
SOURCE=$(ls /usr/src/linux-source-*.tar.xz | head -1)
TOP=$(basename "$SOURCE" .tar.xz)
tar -xJf "$SOURCE" -C "$OUT" "$TOP/drivers/gpio/gpio-sim.c" "$TOP/drivers/gpio/gpiolib.h" "$TOP/kernel/irq/irq_sim.c"
cp "$OUT/$TOP/drivers/gpio/gpio-sim.c" "$OUT/$TOP/drivers/gpio/gpiolib.h" "$OUT/$TOP/kernel/irq/irq_sim.c" "$OUT/"
# irq_to_desc is not exported to modules; generic_handle_irq does the same dispatch.
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$OUT/irq_sim.c"
printf 'obj-m := gpio-sim-oot.o\ngpio-sim-oot-y := gpio-sim.o irq_sim.o\n' > "$OUT/Kbuild"
make -s -C "/lib/modules/$VERSION/build" M="$OUT" modules >&2
echo "$OUT/gpio-sim-oot.ko"
