# Shared helpers for the setup and test scripts (sourced, not run).

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages given that are not installed yet (one apt-get update at most).
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: no Swift toolchain on PATH. Install Swift 6.2 or newer (https://www.swift.org/install/linux/)" >&2
        echo "       and run this again." >&2
        exit 1
    fi
}

# The Debian packages the project needs to build and run.
SMOLLAMA_APT_PACKAGES=(libsqlite3-dev sqlite3 python3 python3-venv cmake g++ make curl libmosquitto-dev mosquitto openssl libcurl4-openssl-dev)
# What the tests need besides: a real browser for the dashboard tests.
SMOLLAMA_TEST_APT_PACKAGES=(chromium)
