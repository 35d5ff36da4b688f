#!/bin/sh
# Installs the Capstan agent as a systemd service (POSIX sh: dash, busybox ash and bash all run it).
#
#   curl -fsSL https://HUB/api/v1/agent/install.sh | sudo HUB=https://HUB TOKEN=cape_... sh
#   sh install.sh --hub https://HUB --token cape_... [--root]
#
# It downloads the agent from the hub (hosts need no other internet access): the single-binary
# release the hub rolls out to every host when there is one (checked against its SHA-256; it then
# updates itself, see README "Agent releases"), otherwise the JavaScript bundle run by Deno 2
# (installing deno@2.9.6 with npm when npm is there). It creates the capstan-agent system user in
# the docker group (or runs the agent as root with --root), writes /etc/capstan-agent/agent.env
# (0600) and a systemd unit, then enables and starts it. Running it again upgrades in place.
# AGENT_FORMAT=binary or AGENT_FORMAT=bundle forces one kind (default: auto).
#
# Every path can be moved, which is how the tests run it without touching the system:
#   PREFIX (prefix of every path), SYSTEMD_DIR, INSTALL_DIR, CONFIG_DIR, STATE_DIR,
#   DOCKER_SOCKET, SKIP_SYSTEMCTL=1 (write the unit but do not call systemctl),
#   SKIP_USER=1 (do not create the user or change owners), SKIP_RESTIC=1 (do not install restic;
#   never installed when PREFIX is set).
set -eu

# Filled in by the hub that served this script; HUB or --hub overrides it.
DEFAULT_HUB=''

HUB=${HUB:-}
TOKEN=${TOKEN:-}
AS_ROOT=${AS_ROOT:-0}
PREFIX=${PREFIX:-}
SYSTEMD_DIR=${SYSTEMD_DIR:-$PREFIX/etc/systemd/system}
INSTALL_DIR=${INSTALL_DIR:-$PREFIX/opt/capstan-agent}
CONFIG_DIR=${CONFIG_DIR:-$PREFIX/etc/capstan-agent}
STATE_DIR=${STATE_DIR:-$PREFIX/var/lib/capstan-agent}
DOCKER_SOCKET=${DOCKER_SOCKET:-/var/run/docker.sock}
SKIP_SYSTEMCTL=${SKIP_SYSTEMCTL:-0}
SKIP_USER=${SKIP_USER:-0}
SKIP_RESTIC=${SKIP_RESTIC:-0}
AGENT_FORMAT=${AGENT_FORMAT:-auto}
DENO_VERSION=2.9.6
SERVICE=capstan-agent
NL='
'

say() { printf 'capstan: %s\n' "$*" >&2; }
die() {
	printf 'capstan: error: %s\n' "$*" >&2
	exit 1
}
usage() {
	cat <<'EOF'
Usage: install.sh [--hub URL] [--token ENROLLMENT_TOKEN] [--root]
  or:  HUB=URL TOKEN=ENROLLMENT_TOKEN sh install.sh
  --root   run the agent as root instead of the capstan-agent user in the docker group
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--hub)
		[ $# -ge 2 ] || die "--hub needs a value"
		HUB=$2
		shift 2
		;;
	--hub=*)
		HUB=${1#--hub=}
		shift
		;;
	--token)
		[ $# -ge 2 ] || die "--token needs a value"
		TOKEN=$2
		shift 2
		;;
	--token=*)
		TOKEN=${1#--token=}
		shift
		;;
	--root)
		AS_ROOT=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

[ -n "$HUB" ] || HUB=$DEFAULT_HUB
HUB=${HUB%/}
[ -n "$HUB" ] || die "the hub URL is required: HUB=https://... or --hub"
# The values end up in a systemd environment file: one line each, from a closed set of characters.
case $HUB in *"$NL"*) die "HUB must be one line" ;; esac
printf '%s\n' "$HUB" | grep -Eq '^https?://[][A-Za-z0-9._~:@%/-]+$' ||
	die "HUB must be an http(s) URL without spaces, quotes or a query"
case $TOKEN in *"$NL"*) die "TOKEN must be one line" ;; esac
if [ -n "$TOKEN" ]; then
	printf '%s\n' "$TOKEN" | grep -Eq '^cape_[A-Za-z0-9_-]{43}$' ||
		die "TOKEN must be the enrollment token shown by the hub (cape_...)"
elif [ ! -s "$STATE_DIR/host-token" ]; then
	die "TOKEN is required: the single-use enrollment token from the hub's Add host page"
fi
case $AS_ROOT in 0 | 1) ;; *) die "AS_ROOT must be 0 or 1" ;; esac
case $AGENT_FORMAT in auto | binary | bundle) ;; *) die "AGENT_FORMAT must be auto, binary or bundle" ;; esac

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
	die "run this as root (sudo), it installs a system service"
fi

download() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --proto '=http,https' -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1"
	else
		die "curl or wget is needed to download the agent"
	fi
}

# --- the single-binary agent, when the hub rolls one out to every host -------------------------
sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "sha256sum (or shasum) is needed to check the downloaded agent"
	fi
}

MODE=bundle
if [ "$AGENT_FORMAT" != bundle ]; then
	case $(uname -m) in
	x86_64 | amd64) ARCH=x86_64 ;;
	aarch64 | arm64) ARCH=aarch64 ;;
	*) ARCH= ;;
	esac
	umask 022
	mkdir -p "$INSTALL_DIR/versions"
	info="$INSTALL_DIR/release.info"
	rm -f "$info"
	if [ -n "$ARCH" ] && download "$HUB/api/v1/agent/releases/install/$ARCH/info" "$info" 2>/dev/null; then
		rel_version=$(sed -n 's/^version=\([0-9A-Za-z.-]*\)$/\1/p' "$info")
		rel_file=$(sed -n 's/^file=\([A-Za-z0-9][A-Za-z0-9._-]*\)$/\1/p' "$info")
		rel_sha=$(sed -n 's/^sha256=\([0-9a-f]\{64\}\)$/\1/p' "$info")
		rm -f "$info"
		if [ -z "$rel_version" ] || [ -z "$rel_file" ] || [ -z "$rel_sha" ]; then
			die "the hub's release information is malformed"
		fi
		part="$INSTALL_DIR/versions/$rel_file.partial"
		rm -f "$part"
		download "$HUB/api/v1/agent/releases/install/$ARCH" "$part" ||
			die "could not download capstan-agent $rel_version from $HUB"
		[ "$(sha256_of "$part")" = "$rel_sha" ] || {
			rm -f "$part"
			die "the downloaded agent does not match its SHA-256; nothing was changed"
		}
		chmod 0755 "$part"
		mv -f "$part" "$INSTALL_DIR/versions/$rel_file"
		# Links are replaced by renaming a fresh one over them (atomic); the agent does the same.
		ln -sf "versions/$rel_file" "$INSTALL_DIR/current.new" && mv -f "$INSTALL_DIR/current.new" "$INSTALL_DIR/current"
		ln -sf "versions/$rel_file" "$INSTALL_DIR/guard.new" && mv -f "$INSTALL_DIR/guard.new" "$INSTALL_DIR/guard"
		MODE=binary
		say "installed capstan-agent $rel_version ($ARCH) to $INSTALL_DIR/versions/$rel_file"
	else
		rm -f "$info"
		[ "$AGENT_FORMAT" = binary ] &&
			die "the hub has no agent release rolled out to every host for ${ARCH:-this architecture}"
	fi
fi

# --- Deno (the bundle only) ---------------------------------------------------------------------
find_deno() {
	DENO=$(command -v deno 2>/dev/null) || DENO=
	if [ -z "$DENO" ]; then
		for candidate in /usr/local/bin/deno /usr/bin/deno "${HOME:-/root}/.deno/bin/deno"; do
			if [ -x "$candidate" ]; then
				DENO=$candidate
				break
			fi
		done
	fi
	[ -n "$DENO" ]
}

if [ "$MODE" = bundle ] && ! find_deno; then
	if command -v npm >/dev/null 2>&1; then
		say "Deno not found; installing deno@$DENO_VERSION with npm"
		npm install -g "deno@$DENO_VERSION" >&2 || die "npm could not install deno@$DENO_VERSION"
		find_deno || die "npm installed deno, but it is not on PATH"
	else
		die "the agent needs Deno 2 and neither deno nor npm was found: install Deno $DENO_VERSION (or Node.js with npm) and run this again"
	fi
fi
if [ "$MODE" = bundle ]; then
	major=$("$DENO" --version 2>/dev/null | sed -n '1s/^deno \([0-9][0-9]*\)\..*/\1/p')
	if [ -z "$major" ] || [ "$major" -lt 2 ]; then
		die "$DENO is not Deno 2 or newer (found: ${major:-unknown})"
	fi
	say "using $DENO"
fi

# --- the agent --------------------------------------------------------------------------------
if [ "$MODE" = bundle ]; then
	umask 022
	mkdir -p "$INSTALL_DIR"
	new="$INSTALL_DIR/agent.new.js"
	rm -f "$new"
	download "$HUB/api/v1/agent/bundle.js" "$new" || die "could not download the agent from $HUB"
	[ -s "$new" ] || die "the hub sent an empty agent"
	version=$("$DENO" run --no-config --no-prompt "$new" --version 2>/dev/null) ||
		die "the downloaded agent does not run with $DENO"
	chmod 0644 "$new"
	mv -f "$new" "$INSTALL_DIR/agent.js"
	say "installed $version to $INSTALL_DIR/agent.js"
fi

# --- restic (volume snapshots) -----------------------------------------------------------------
# Snapshots of this host's volumes are taken by restic >= 0.14 (compression); the agent reports
# the version it finds and the hub shows it. Missing restic is not fatal: only snapshots need it.
restic_ok() {
	# "restic 0.14.0 compiled with ..." -> "0 14"
	mm=$(restic version 2>/dev/null | sed -n '1s/^restic \([0-9][0-9]*\)\.\([0-9][0-9]*\)\..*/\1 \2/p')
	[ -n "$mm" ] || return 1
	r_major=${mm% *}
	r_minor=${mm#* }
	[ "$r_major" -gt 0 ] || [ "$r_minor" -ge 14 ]
}
RESTIC_HINT="install restic 0.14 or newer with the system's package manager to snapshot this host's volumes"
if ! command -v restic >/dev/null 2>&1; then
	if [ "$SKIP_RESTIC" = 1 ] || [ -n "$PREFIX" ]; then
		say "restic not found (not installing it here): $RESTIC_HINT"
	elif command -v apt-get >/dev/null 2>&1; then
		say "restic not found; installing the restic package (volume snapshots)"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y restic >&2; then
			DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y restic >&2 ||
				say "apt-get could not install restic: $RESTIC_HINT"
		fi
	else
		say "restic not found: $RESTIC_HINT"
	fi
fi
if command -v restic >/dev/null 2>&1; then
	if restic_ok; then
		say "using $(restic version 2>/dev/null | sed -n '1s/^\(restic [0-9.]*\).*/\1/p') for volume snapshots"
	else
		say "the installed restic is older than 0.14: $RESTIC_HINT"
	fi
fi

# --- user and files ---------------------------------------------------------------------------
has_group() {
	if command -v getent >/dev/null 2>&1; then
		getent group "$1" >/dev/null 2>&1
	else
		grep -q "^$1:" /etc/group
	fi
}

if [ "$AS_ROOT" = 1 ]; then
	RUN_USER=root
else
	RUN_USER=capstan-agent
	if [ "$SKIP_USER" != 1 ]; then
		has_group docker || die "the docker group does not exist: is Docker installed? (or use --root)"
		if id "$RUN_USER" >/dev/null 2>&1; then
			usermod -a -G docker "$RUN_USER" 2>/dev/null || addgroup "$RUN_USER" docker 2>/dev/null || true
		elif command -v useradd >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir "$STATE_DIR" --shell /usr/sbin/nologin \
				--groups docker "$RUN_USER" || die "could not create the $RUN_USER user"
		elif command -v adduser >/dev/null 2>&1; then
			if ! adduser -S -D -H -h "$STATE_DIR" -s /sbin/nologin "$RUN_USER" ||
				! addgroup "$RUN_USER" docker; then
				die "could not create the $RUN_USER user"
			fi
		else
			die "neither useradd nor adduser found to create the $RUN_USER user (or use --root)"
		fi
		say "the agent runs as $RUN_USER (group docker)"
	fi
fi

mkdir -p "$STATE_DIR/tmp" "$CONFIG_DIR" "$SYSTEMD_DIR"
chmod 0700 "$STATE_DIR" "$STATE_DIR/tmp"
if [ "$SKIP_USER" != 1 ]; then
	chown "$RUN_USER" "$STATE_DIR" "$STATE_DIR/tmp" || die "could not hand $STATE_DIR to $RUN_USER"
	# A self-updating agent writes new versions and switches its links here.
	if [ "$MODE" = binary ]; then
		chown -R "$RUN_USER" "$INSTALL_DIR" || die "could not hand $INSTALL_DIR to $RUN_USER"
	fi
fi

# systemd reads the environment file as root before dropping privileges: keep it root's, 0600.
env_file="$CONFIG_DIR/agent.env"
old_umask=$(umask)
umask 077
{
	printf '# Written by the Capstan install script.\n'
	printf 'CAPSTAN_HUB_URL=%s\n' "$HUB"
	if [ -n "$TOKEN" ]; then
		printf '# Single-use: exchanged for %s/host-token on first start.\n' "$STATE_DIR"
		printf 'CAPSTAN_ENROLL_TOKEN=%s\n' "$TOKEN"
	fi
	printf 'CAPSTAN_AGENT_DIR=%s\n' "$STATE_DIR"
	printf 'CAPSTAN_DOCKER_SOCKET=%s\n' "$DOCKER_SOCKET"
	if [ "$MODE" = binary ]; then
		printf '# Self-update: versions/, current, previous and guard live here.\n'
		printf 'CAPSTAN_AGENT_INSTALL_DIR=%s\n' "$INSTALL_DIR"
	fi
} >"$env_file.new"
chmod 0600 "$env_file.new"
mv -f "$env_file.new" "$env_file"
umask "$old_umask"

if [ "$MODE" = binary ]; then
	# The guard (the last binary that confirmed its health) restores the previous version when a
	# new one exited before confirming; "-": a failing guard never keeps the agent down.
	EXEC="ExecStartPre=-$INSTALL_DIR/guard --update-guard
ExecStart=$INSTALL_DIR/current"
	RUN_ENV=""
else
	# The agent runs programs (restic for snapshots, git and tar for builds, ssh-keygen) and keeps
	# their private files (a repository password, a deploy key) in temporary folders under its
	# state folder, the only place it may write.
	EXEC="ExecStart=$DENO run --no-config --no-prompt --allow-net --allow-env --allow-sys=hostname --allow-read --allow-run --allow-ffi --allow-write=$STATE_DIR,$DOCKER_SOCKET $INSTALL_DIR/agent.js"
	RUN_ENV="Environment=DENO_DIR=$STATE_DIR/deno-cache
Environment=DENO_NO_UPDATE_CHECK=1
Environment=TMPDIR=$STATE_DIR/tmp
"
fi

# Memory (issue 20: a steady agent under 60 MB, flat over time): a 1 MB young generation, no
# optimizing JIT (its code and memory cost MBs; the agent's CPU measured the same without it), two
# malloc arenas with fixed trim/mmap thresholds (glibc kept 15-20 MB of the runtime threads' freed
# memory otherwise), and a malloc_trim every 30 s (agent/memory_trim.ts). agent/unit.ts says why
# in full; the benchmark and the binary build take these from there, and
# tests/install_script_test.ts checks that this unit says the same. --allow-ffi above: the
# filesystems collector calls libc's statfs instead of loading Deno's Node layer for it.
MEMORY_ENV="Environment=DENO_V8_FLAGS=--max-semi-space-size=1,--max-opt=1
Environment=MALLOC_ARENA_MAX=2
Environment=GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072
Environment=DENO_USR2_MEMORY_TRIM=1
"

unit="$SYSTEMD_DIR/$SERVICE.service"
cat >"$unit.new" <<EOF
# Written by the Capstan install script; running it again rewrites this file.
[Unit]
Description=Capstan agent (reports this host's Docker to $HUB)
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=simple
User=$RUN_USER
EnvironmentFile=$env_file
${MEMORY_ENV}${RUN_ENV}${EXEC}
Restart=always
RestartSec=5
# 78: the hub refused this host's token for good; restarting cannot help.
RestartPreventExitStatus=78
MemoryMax=256M
TasksMax=512
NoNewPrivileges=true
ProtectSystem=full
ProtectHome=true
PrivateTmp=true
StandardOutput=journal
StandardError=journal
SyslogIdentifier=$SERVICE

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$unit.new"
mv -f "$unit.new" "$unit"
say "wrote $unit"

if [ "$SKIP_SYSTEMCTL" = 1 ]; then
	say "SKIP_SYSTEMCTL=1: not starting the service"
	exit 0
fi
command -v systemctl >/dev/null 2>&1 ||
	die "systemctl not found: start the agent yourself (with the settings in $env_file): $(printf '%s\n' "$EXEC" | sed -n 's/^ExecStart=//p')"
systemctl daemon-reload
systemctl enable "$SERVICE" >/dev/null 2>&1 || systemctl enable "$SERVICE"
systemctl restart "$SERVICE"
say "the agent is running; it appears on the hub's Hosts page within seconds"
say "logs: journalctl -u $SERVICE -f"
