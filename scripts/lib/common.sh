# Shared by scripts/*: dependency install and builds. Source it; do not run.
# Paths: NM_ROOT is the repository; builds go to $NM_ROOT/build* (ignored by git).

NM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NM_ROOT

nm_say() { printf '%s\n' "$*" >&2; }
nm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the packages of scripts/deps.txt that are not installed yet.
nm_install_deps() {
    # shellcheck disable=SC2046 # one package per word
    nm_install_packages $(sed -e 's/#.*//' "$NM_ROOT/scripts/deps.txt" | tr -s ' \t' '\n' | grep -v '^$')
}

# nm_install_packages PKG...: installs those not installed yet (apt-get
# update once, only when something is missing). Uses sudo when not root.
nm_install_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || nm_die "need root or sudo to install: ${missing[*]}"
        sudo=sudo
    fi
    nm_say "installing missing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || nm_die "apt-get update failed"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null || nm_die "apt-get install failed for: ${missing[*]}"
}

# nm_build DIR [cmake args...]: configure (if needed) and build into DIR.
nm_build() {
    local dir=$1; shift
    cmake -S "$NM_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null \
        || nm_die "cmake configure failed in $dir"
    cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >"$dir/build.log" 2>&1 \
        || { tail -n 40 "$dir/build.log" >&2; nm_die "build failed in $dir (full log: $dir/build.log)"; }
}
