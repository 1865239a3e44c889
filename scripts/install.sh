#!/usr/bin/env bash
# Installs edge-agent on Debian or Raspberry Pi OS. Idempotent: run it again to
# update the program; it never overwrites an existing config.
#   sudo scripts/install.sh            install on this machine
#   scripts/install.sh --root DIR      install into a scratch tree (tests, images); DESTDIR works too
set -euo pipefail

ROOT="${DESTDIR:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$2"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
ROOT="${ROOT%/}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
USER_NAME=edge-agent
APP="$ROOT/usr/lib/edge-agent"
ETC="$ROOT/etc/edge-agent"
DATA="$ROOT/var/lib/edge-agent"
UNIT="$ROOT/etc/systemd/system/edge-agent.service"

[ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (or pass --root DIR)" >&2; exit 2; }
[ -f "$SRC/dist/agent/src/main.js" ] || { echo "install.sh: build first (npm ci)" >&2; exit 2; }

# The system user and group: with --root, in the tree's own passwd/group files.
if [ -z "$ROOT" ]; then
  getent group "$USER_NAME" >/dev/null || groupadd --system "$USER_NAME"
  id -u "$USER_NAME" >/dev/null 2>&1 || useradd --system --gid "$USER_NAME" --home-dir /var/lib/edge-agent --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  UID_N="$(id -u "$USER_NAME")"; GID_N="$(getent group "$USER_NAME" | cut -d: -f3)"
else
  mkdir -p "$ROOT/etc"
  touch "$ROOT/etc/passwd" "$ROOT/etc/group"
  # Like useradd --system: the highest id below 1000 that the tree's passwd and group leave free.
  free_id() {
    awk -F: '{ used[$3] = 1 } END { for (i = 999; i >= 100; i--) if (!(i in used)) { print i; exit } exit 1 }' \
      "$ROOT/etc/passwd" "$ROOT/etc/group" \
      || { echo "install.sh: no free system id below 1000 in $ROOT/etc/passwd and group" >&2; return 1; }
  }
  if ! grep -q "^$USER_NAME:" "$ROOT/etc/group"; then
    G="$(free_id)" || exit 2
    echo "$USER_NAME:x:$G:" >> "$ROOT/etc/group"
  fi
  GID_N="$(grep "^$USER_NAME:" "$ROOT/etc/group" | cut -d: -f3)"
  if ! grep -q "^$USER_NAME:" "$ROOT/etc/passwd"; then
    # The user takes its group's number unless another account already has it as a user id.
    U="$GID_N"
    if awk -F: -v id="$U" '$3 == id { found = 1 } END { exit !found }' "$ROOT/etc/passwd"; then U="$(free_id)" || exit 2; fi
    echo "$USER_NAME:x:$U:$GID_N:edge-agent:/var/lib/edge-agent:/usr/sbin/nologin" >> "$ROOT/etc/passwd"
  fi
  UID_N="$(grep "^$USER_NAME:" "$ROOT/etc/passwd" | cut -d: -f3)"
fi

# The program: production files only, replaced as a whole so an update leaves no stale file.
install -d -m 0755 "$ROOT/usr/lib"
STAGE="$(mktemp -d "$ROOT/usr/lib/.edge-agent.XXXXXX")"
cp -a "$SRC/package.json" "$SRC/bin" "$SRC/dist" "$STAGE/"
[ -f "$SRC/package-lock.json" ] && cp -a "$SRC/package-lock.json" "$STAGE/"
cp -a "$SRC/node_modules" "$STAGE/"
# Production dependencies only (the build tools stay behind).
if command -v npm >/dev/null; then (cd "$STAGE" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1) || true; fi
chmod -R u=rwX,go=rX "$STAGE"
rm -rf "$APP"
mv "$STAGE" "$APP"

# Config (root-owned, readable by the agent's group) and data (the agent's alone).
install -d -m 0750 -o 0 -g "$GID_N" "$ETC"
if [ ! -f "$ETC/config.json" ]; then
  cat > "$ETC/config.json" <<JSON
{
  "device": { "id": "CHANGE-ME" },
  "storage": { "dir": "/var/lib/edge-agent" },
  "mqtt": {
    "url": "mqtts://CHANGE-ME.collector.host:8883",
    "ca": "/etc/edge-agent/ca.crt",
    "cert": "/etc/edge-agent/device.crt",
    "key": "/var/lib/edge-agent/identity/tls.key"
  }
}
JSON
  chown 0:"$GID_N" "$ETC/config.json"; chmod 0640 "$ETC/config.json"
fi
install -d -m 0700 -o "$UID_N" -g "$GID_N" "$DATA"
install -d -m 0755 "$(dirname "$UNIT")"
install -m 0644 "$SRC/scripts/systemd/edge-agent.service" "$UNIT"
install -d -m 0755 "$ROOT/usr/local/bin"
ln -sfn /usr/lib/edge-agent/bin/edge-agent.js "$ROOT/usr/local/bin/edge-agent"

[ -z "$ROOT" ] && command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true

cat <<NEXT
edge-agent installed in ${ROOT:-/}.
Next steps:
  1. Edit /etc/edge-agent/config.json: device.id, mqtt.url; put the platform CA at /etc/edge-agent/ca.crt.
  2. sudo -u edge-agent edge-agent enroll --config /etc/edge-agent/config.json
     (prints the CSR and the registry line for the platform)
  3. Put the issued certificate at /etc/edge-agent/device.crt, run enroll again to verify it.
  4. sudo systemctl enable --now edge-agent && edge-agent status
NEXT
