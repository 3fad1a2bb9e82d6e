#!/bin/sh
# Installs Smollama from this unpacked package, as root (safe to run again, e.g. for an upgrade):
#   1. creates the service user (default smollama, home /var/lib/smollama) when missing;
#   2. over an existing install: stops the service, backs up the node's home
#      (/var/backups/smollama/) and keeps the old binary as smollama.previous;
#   3. installs the binary to PREFIX/bin (default /usr/local);
#   4. initialises the node (smollama init, as the user) when it is new, else opens it once with
#      the new binary (which migrates the store) and rolls back to the old binary and the
#      backup when that fails (the old binary stays as PREFIX/bin/smollama.previous);
#   5. installs and starts the systemd service (smollama service install) when systemd runs.
#
#   sudo ./install.sh [--prefix DIR] [--user NAME] [--home DIR] [--no-service]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
prefix=/usr/local
user=smollama
home=""
service=true
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --user) user="$2"; shift 2 ;;
        --home) home="$2"; shift 2 ;;
        --no-service) service=false; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
say() { echo "==> $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run it as root: sudo $0"
[ -x "$here/smollama" ] || die "no smollama binary beside install.sh: unpack the whole tarball and run it from there"
for library in libsqlite3.so.0 libmosquitto.so.1 libz.so.1 libcurl.so.4; do
    ldconfig -p | grep -q "$library" || die "$library is missing: sudo apt-get install -y libsqlite3-0 libmosquitto1 zlib1g libcurl4"
done
systemd=false
[ -d /run/systemd/system ] && systemd=true
version="$("$here/smollama" --version)"
binary="$prefix/bin/smollama"

if ! id -u "$user" >/dev/null 2>&1; then
    say "creating the system user $user (home /var/lib/$user)"
    useradd --system --user-group --home-dir "/var/lib/$user" --shell /usr/sbin/nologin "$user"
fi
user_home="$(getent passwd "$user" | cut -d: -f6)"
install -d -o "$user" -g "$user" -m 0750 "$user_home"
home="${home:-$user_home/.smollama}"
as_user() { runuser -u "$user" -- env HOME="$user_home" SMOLLAMA_HOME="$home" "$@"; }

backup=""
if [ -f "$home/data/identity.json" ]; then
    if $systemd && systemctl is-active --quiet smollama.service; then
        say "stopping smollama.service for the upgrade"
        systemctl stop smollama.service
        restart=true
    fi
    install -d -m 0700 /var/backups/smollama
    backup="/var/backups/smollama/$user-$(date -u +%Y%m%dT%H%M%SZ)"
    # `smollama backup FILE` where the installed binary has it (its help lists the subcommand).
    if [ -x "$binary" ] && "$binary" --help 2>/dev/null | grep -qE '^ +backup( |$)'; then
        say "backing up the node with smollama backup: $backup.backup"
        as_user "$binary" backup "/tmp/smollama-install.backup" && mv "/tmp/smollama-install.backup" "$backup.backup" \
            || die "smollama backup failed; nothing was changed"
    fi
    # The home's files as they are (the daemon is stopped): what a rollback restores.
    say "copying $home to $backup.tar.gz"
    tar -C "$(dirname "$home")" -czf "$backup.tar.gz" "$(basename "$home")"
    [ -x "$binary" ] && cp -p "$binary" "$binary.previous"
fi

say "installing smollama $version to $binary"
install -d "$prefix/bin"
install -m 0755 "$here/smollama" "$binary.new"
mv -f "$binary.new" "$binary"

rollback() {
    echo "install.sh: $1; rolling back" >&2
    if [ -f "$binary.previous" ]; then mv -f "$binary.previous" "$binary"; fi
    if [ -n "$backup" ]; then
        rm -rf "$home"
        tar -C "$(dirname "$home")" -xzf "$backup.tar.gz"
    fi
    if [ "${restart:-false}" = true ]; then systemctl start smollama.service || true; fi
    echo "install.sh: the previous binary and the node's home ($backup.tar.gz) are back" >&2
    exit 1
}

if [ -z "$backup" ]; then
    say "initialising the node at $home (as $user)"
    install -d -o "$user" -g "$user" -m 0750 "$home"
    as_user "$binary" init
else
    say "opening the node with the new binary (migrates the store)"
    as_user "$binary" status >/dev/null || rollback "smollama $version could not open the node"
fi

if ! $service; then
    say "done (no service: --no-service). Start it with: sudo -u $user $binary run"
elif $systemd; then
    "$binary" service install --user "$user" --home "$home" --binary "$binary" || rollback "the service did not install"
    say "done: smollama service status; smollama service logs; sudo -u $user smollama doctor"
else
    say "done, but systemd is not running here: start the node with: sudo -u $user $binary run"
    "$binary" service install --dry-run --user "$user" --home "$home" --binary "$binary" >/dev/null
fi
