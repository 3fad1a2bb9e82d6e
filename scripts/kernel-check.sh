#!/usr/bin/env bash
# Boots a real Linux kernel under QEMU with i2c-dev, i2c-stub and the kernel's bmp280 IIO driver,
# and runs KernelI2CStubTests inside it: the real I2C ioctls (SMBus fallback included), EBUSY
# for a kernel-owned address, the IIO reader on the kernel's own sysfs, and our BME280
# compensation against the kernel's. Not part of CI: it needs root-installed packages.
#
#   apt-get install qemu-system-x86 linux-image-amd64 busybox-static
#   swift build --build-tests && scripts/kernel-check.sh
#
# With GPIO_SIM_KO=path/to/gpio-sim-oot.ko (scripts/build-gpio-sim.sh builds it: Debian's kernel
# lacks gpio-sim) it also runs KernelGPIOSimTests against a simulated `pinctrl-rp1` chip.
set -euo pipefail
cd "$(dirname "$0")/.."

KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
VERSION=${KERNEL#/boot/vmlinuz-}
MODULES=/lib/modules/$VERSION/kernel/drivers
TESTS=$(swift build --build-tests --show-bin-path)/smollamaPackageTests.xctest
[ -x "$TESTS" ] || { echo "build the tests first: swift build --build-tests" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,proc,sys,dev,tmp,modules,tests}
cp /bin/busybox "$ROOT/bin/busybox"
for module in i2c/i2c-dev i2c/i2c-stub iio/industrialio iio/pressure/bmp280 iio/pressure/bmp280-i2c; do
    file=$(ls "$MODULES/$module".ko* | head -1)
    case "$file" in
        *.xz) xz -dc "$file" > "$ROOT/modules/$(basename "$module").ko" ;;
        *) cp "$file" "$ROOT/modules/$(basename "$module").ko" ;;
    esac
done
if [ -n "${GPIO_SIM_KO:-}" ]; then
    cp "$GPIO_SIM_KO" "$ROOT/modules/gpio-sim.ko"
    cp "$(ls /lib/modules/$VERSION/kernel/fs/configfs/configfs.ko* | head -1)" "$ROOT/modules/configfs.ko"
fi
cp "$TESTS" "$ROOT/tests/"
# The test binary's shared libraries, at their own paths.
for lib in $(ldd "$TESTS" | awk '/=>/ {print $3} /^\t\// {print $1}'); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done

cat > "$ROOT/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
for m in i2c-dev i2c-stub industrialio bmp280 bmp280-i2c; do
    case $m in i2c-stub) insmod /modules/$m.ko chip_addr=0x76,0x77 ;; *) insmod /modules/$m.ko ;; esac
done
for adapter in /sys/bus/i2c/devices/i2c-*; do
    [ "$(cat "$adapter/name")" = "SMBus stub driver" ] && BUS=${adapter##*-}
done
# The BME280 datasheet vector: chip id, calibration 0x88..0xA1 and 0xE1..0xE7, raw data 0xF7..0xFE.
CAL1="112 107 67 103 24 252 125 142 67 214 208 11 39 11 140 0 249 255 140 60 248 198 112 23 0 75"
CAL2="106 1 0 19 41 3 30"
DATA="101 90 192 126 237 0 106 80"
for chip in 0x76 0x77; do
    i2cset -y "$BUS" $chip 0xd0 0x60
    r=136; for b in $CAL1; do i2cset -y "$BUS" $chip "$(printf 0x%02x $r)" "$(printf 0x%02x $b)"; r=$((r + 1)); done
    r=225; for b in $CAL2; do i2cset -y "$BUS" $chip "$(printf 0x%02x $r)" "$(printf 0x%02x $b)"; r=$((r + 1)); done
    r=247; for b in $DATA; do i2cset -y "$BUS" $chip "$(printf 0x%02x $r)" "$(printf 0x%02x $b)"; r=$((r + 1)); done
done
echo bme280 0x77 > /sys/bus/i2c/devices/i2c-$BUS/new_device
export SMOLLAMA_KERNEL_I2C_BUS=$BUS HOME=/tmp TMPDIR=/tmp
if [ -f /modules/gpio-sim.ko ]; then
    insmod /modules/configfs.ko; insmod /modules/gpio-sim.ko
    mount -t configfs none /sys/kernel/config
    C=/sys/kernel/config/gpio-sim/smollama
    mkdir $C $C/bank0
    echo 28 > $C/bank0/num_lines
    echo pinctrl-rp1 > $C/bank0/label
    for i in $(seq 0 27); do mkdir $C/bank0/line$i; echo GPIO$i > $C/bank0/line$i/name; done
    echo 1 > $C/live
    export SMOLLAMA_GPIO_SIM_DIR=/sys/devices/platform/$(cat $C/dev_name)/$(cat $C/bank0/chip_name)
    ls -l /dev/gpiochip*
fi
/tests/smollamaPackageTests.xctest --testing-library swift-testing --filter Kernel
echo "KERNEL-CHECK-EXIT $?"
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$WORK/initramfs.cpio"

# Software emulation by default: nested KVM hung before the kernel's first message on the
# machine this was written on. SMOLLAMA_QEMU_KVM=1 tries KVM.
ACCEL=(-accel tcg -cpu max)
[ "${SMOLLAMA_QEMU_KVM:-0}" = 1 ] && ACCEL=(-enable-kvm -cpu host)
timeout ${QEMU_TIMEOUT:-300} qemu-system-x86_64 "${ACCEL[@]}" -m 2048 -nographic -no-reboot \
    -kernel "$KERNEL" -initrd "$WORK/initramfs.cpio" -append "console=ttyS0 quiet panic=-1" | tee "$WORK/console.log"
grep -q "KERNEL-CHECK-EXIT 0" "$WORK/console.log"
