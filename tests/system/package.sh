#!/usr/bin/env bash
# The Debian package under a real systemd. Builds the .deb, runs lintian on it, checks its
# file list, boots Debian 12 in a container with systemd as PID 1 (debootstrap, cached under
# /var/tmp; systemd-nspawn), installs the package there and runs its units against the tests'
# fake BlueTape on the host's 127.0.0.1, which the container shares. Prints one line per check
# and `N passed, M failed` last; exits non-zero when a check failed or the container could not
# be booted. Needs root, debootstrap, systemd-container, lintian and cargo-deb (.ci/run
# installs them). Takes about a minute once the release build and the root file system are
# there.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok      $1"; passed=$((passed + 1)); }
fail() { echo "FAILED  $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: one check, passed when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}
# Can't go on: says why in one line and fails.
abort() {
  echo "system test could not run: $1" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}
# wait_for SECONDS COMMAND...: until the command succeeds, or false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
}

[[ $(id -u) == 0 ]] || abort "needs root to boot a container"
for tool in debootstrap systemd-nspawn nsenter lintian python3; do
  command -v "$tool" >/dev/null || abort "$tool is not installed"
done
cargo deb --version >/dev/null 2>&1 || abort "cargo-deb is not installed"
unshare --mount --pid --net --fork true 2>/dev/null ||
  abort "this machine gives no rights to create namespaces (unshare --mount --pid --net failed)"

# --- The package ------------------------------------------------------------------------------
echo "        building the package (cargo deb: a release build)"
deb=$(cargo deb --locked --quiet 2>/dev/null | tail -n 1)
[[ -f $deb ]] || abort "cargo deb did not build a package"
cargo build --locked --quiet --example fake_bluetape || abort "the fake BlueTape did not build"

lint=$(lintian --fail-on error "$deb" 2>&1)
lint_status=$?
lint=$(grep -v '^running with root privileges' <<<"$lint")
[[ -n $lint ]] && sed 's/^/        lintian: /' <<<"$lint"
check "lintian reports no error" test "$lint_status" = 0

contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
has_files() {
  local path missing=0
  for path in ./usr/bin/bluetape-sync \
    ./lib/systemd/system/bluetape-sync.service \
    ./lib/systemd/system/bluetape-sync@.service \
    ./lib/systemd/system/bluetape-sync-once.service \
    ./lib/systemd/system/bluetape-sync-once.timer \
    ./etc/bluetape-sync/config.toml \
    ./usr/share/man/man1/bluetape-sync.1.gz \
    ./usr/share/bash-completion/completions/bluetape-sync \
    ./usr/share/zsh/vendor-completions/_bluetape-sync \
    ./usr/share/fish/vendor_completions.d/bluetape-sync.fish \
    ./usr/share/doc/bluetape-sync/copyright \
    ./usr/share/doc/bluetape-sync/changelog.Debian.gz; do
    grep -qxF "$path" <<<"$contents" || {
      echo "        not in the package: $path"
      missing=1
    }
  done
  for script in postinst prerm postrm; do
    dpkg-deb --info "$deb" "$script" >/dev/null 2>&1 || {
      echo "        no $script in the package"
      missing=1
    }
  done
  dpkg-deb --info "$deb" conffiles | grep -qxF /etc/bluetape-sync/config.toml || {
    echo "        /etc/bluetape-sync/config.toml is not a conffile"
    missing=1
  }
  return "$missing"
}
check "the package holds the binary, units, man page, completions, scripts" has_files

# --- The container ----------------------------------------------------------------------------
cache=/var/tmp/bluetape-sync-bookworm
if [[ ! -x $cache/lib/systemd/systemd ]]; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  [[ -n $mirror ]] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  rm -rf "$cache.partial"
  echo "        debootstrap of Debian 12 into $cache (from ${mirror:-http://deb.debian.org/debian})"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates \
    bookworm "$cache.partial" "${mirror:-http://deb.debian.org/debian}" >/dev/null 2>&1 ||
    abort "debootstrap of Debian 12 failed (mirror ${mirror:-http://deb.debian.org/debian})"
  mv "$cache.partial" "$cache"
fi

scratch=$(mktemp -d /var/tmp/bluetape-sync-system.XXXXXX)
root=$scratch/root
machine=bluetape-sync-$$
nspawn=
fake=
teardown() {
  [[ -n $fake ]] && kill "$fake" 2>/dev/null
  if [[ -n $nspawn ]]; then
    kill "$nspawn" 2>/dev/null
    wait "$nspawn" 2>/dev/null
  fi
  rm -rf "$scratch"
}
trap teardown EXIT
cp -a "$cache" "$root" || abort "copying the root file system to $root failed"
cp "$deb" "$root/root/bluetape-sync.deb"

# The container shares the host's network, so it reaches the fake on 127.0.0.1.
systemd-nspawn --quiet --register=no --keep-unit --console=passive -M "$machine" -D "$root" -b \
  >"$scratch/console.log" 2>&1 &
nspawn=$!
leader=
find_leader() {
  leader=$(pgrep -P "$nspawn" | head -n 1)
  [[ -n $leader ]] && nsenter -t "$leader" -a -- test -d /run/systemd/system 2>/dev/null
}
# ct COMMAND...: runs a command inside the container.
ct() { nsenter -t "$leader" -a -- env SYSTEMD_PAGER= "$@"; }
booted() {
  local state
  state=$(ct systemctl is-system-running 2>/dev/null)
  [[ $state == running || $state == degraded ]]
}
if ! wait_for 60 find_leader || ! wait_for 120 booted; then
  tail -n 20 "$scratch/console.log" >&2
  abort "Debian 12 did not boot under systemd-nspawn"
fi
ok "Debian 12 boots with systemd $(ct systemctl --version | awk 'NR==1{print $2}') as PID 1"

# --- The fake BlueTape ------------------------------------------------------------------------
main_key=main-key-4b1d
beta_key=beta-key-9e0c
log=$scratch/requests.jsonl
target/debug/examples/fake_bluetape "$log" "acct-main=$main_key" "acct-beta=$beta_key" \
  >"$scratch/fake.out" 2>&1 &
fake=$!
wait_for 30 test -s "$scratch/fake.out" || abort "the fake BlueTape did not start"
base_url=$(head -n 1 "$scratch/fake.out")

# requests ACCOUNT [STATUS]: the ids of the POSTs BlueTape received for ACCOUNT (answered
# STATUS, default 201, or `any`), one per line, in order.
requests() {
  python3 - "$log" "$1" "${2:-201}" <<'EOF'
import json, sys
log, account, status = sys.argv[1:]
for line in open(log):
    r = json.loads(line)
    if (r["method"] == "POST" and status in ("any", str(r["status"]))
            and r["headers"].get("x-integration-accountid") == account):
        print(r["body"].get("id"))
EOF
}
# headers_right ACCOUNT KEY: every request for ACCOUNT carried KEY and a JSON body.
headers_right() {
  python3 - "$log" "$1" "$2" <<'EOF'
import json, sys
log, account, key = sys.argv[1:]
seen = 0
for line in open(log):
    r = json.loads(line)
    h = r["headers"]
    if h.get("x-integration-accountid") != account:
        continue
    seen += 1
    wrong = [name for name, want in (("x-bluetape-key", key),
             ("content-type", "application/json")) if h.get(name) != want]
    if not h.get("user-agent", "").startswith("bluetape-sync/"):
        wrong.append("user-agent")
    if wrong:
        print(f"        {r['method']} {r['path']}: wrong {', '.join(wrong)}")
        sys.exit(1)
sys.exit(0 if seen else 1)
EOF
}
# created_ids ACCOUNT IDS...: BlueTape created exactly these ids for ACCOUNT, each once.
created_ids() {
  local account=$1 got want
  shift
  got=$(requests "$account" | sort)
  want=$(printf '%s\n' "$@" | sort)
  [[ $got == "$want" ]]
}
# no_duplicates: no id was created (201) twice, in any account.
no_duplicates() {
  python3 - "$log" <<'EOF'
import collections, json, sys
created = collections.Counter(
    r["body"].get("id") for r in map(json.loads, open(sys.argv[1])) if r["status"] == 201)
twice = sorted(i for i, n in created.items() if n > 1)
if twice:
    print("        created more than once: " + ", ".join(twice))
sys.exit(1 if twice else 0)
EOF
}
# unit_is UNIT PROPERTY VALUE: systemd's PROPERTY of UNIT is VALUE.
unit_is() {
  local value
  value=$(ct systemctl show -P "$2" "$1")
  [[ $value == "$3" ]] || {
    echo "        $1: $2=$value"
    return 1
  }
}

# --- Install: nothing enabled, nothing started -------------------------------------------------
ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/bluetape-sync.deb >"$scratch/dpkg.log" 2>&1
check "dpkg -i installs the package" test $? = 0
units="bluetape-sync.service bluetape-sync-once.service bluetape-sync-once.timer"
nothing_enabled() {
  local unit state
  for unit in $units; do
    state=$(ct systemctl is-enabled "$unit" 2>&1)
    [[ $state == disabled || $state == static ]] || {
      echo "        $unit is $state"
      return 1
    }
  done
}
nothing_started() {
  local unit
  for unit in $units; do
    ct systemctl --quiet is-active "$unit" && {
      echo "        $unit is running"
      return 1
    }
  done
  return 0
}
check "installing enables no unit" nothing_enabled
check "installing starts no unit" nothing_started
check "systemd knows the units after install" unit_is bluetape-sync@any.service LoadState loaded
check "the daemons may hold 16384 descriptors" unit_is bluetape-sync@any.service LimitNOFILE 16384

# --- The main account -------------------------------------------------------------------------
# config NAME ACCOUNT EXPORT: a config for one account, its export read by the watch and at
# startup only (the schedule is yearly).
config() {
  cat <<EOF
[api]
base_url = "$base_url"
account_id = "$2"

[schedule]
cron = "0 0 0 1 1 *"
watch = true

[source]
name = "$1"
path = "$3"
settle = "1s"

[source.fields]
id = "Customer ID"
firstName = "First Name"
lastName = "Last Name"
emailAddress = "Email"
cellPhoneNumber = "Mobile"
sourceModifiedDate = "Last Modified"
EOF
}
# export PREFIX N: a CSV export of N customers whose ids start with PREFIX.
export_csv() {
  echo "Customer ID,First Name,Last Name,Email,Mobile,Last Modified"
  for i in $(seq 1 "$2"); do
    echo "$1-$i,Ada,Lovelace,ada$i@example.com,(626) 555-01$((10 + i)),2024-03-01 09:15:0$i"
  done
}
# setup NAME ACCOUNT KEY CONFIG KEYFILE EXPORT N [SED]: writes an account's config (edited by
# the sed script SED), key (0600) and export inside the container.
setup() {
  ct mkdir -p "$(dirname "$6")"
  config "$1" "$2" "$6" | sed "${8:-}" | ct tee "$4" >/dev/null
  ct install -m 0600 /dev/null "$5"
  printf '%s\n' "$3" | ct tee "$5" >/dev/null
  export_csv "$1" "$7" | ct tee "$6" >/dev/null
}
setup main acct-main "$main_key" /etc/bluetape-sync/config.toml /etc/bluetape-sync/api.key \
  /srv/exports/customers.csv 3

ct systemctl start bluetape-sync.service
check "systemctl start bluetape-sync returns once the daemon is READY" test $? = 0
check "bluetape-sync.service is running" unit_is bluetape-sync.service SubState running
check "the fake received the 3 customers of the main account" \
  wait_for 30 created_ids acct-main main-1 main-2 main-3
check "every request carried the main account's id, key and a JSON body" \
  headers_right acct-main "$main_key"
status_shows_pass() {
  ct systemctl status --no-pager bluetape-sync.service |
    grep -q 'Status: "last pass ok: read 3, new 3, created 3'
}
check "systemctl status shows the last pass's STATUS line" wait_for 10 status_shows_pass
summary_at_info() {
  ct journalctl --no-pager -u bluetape-sync.service -p info..info -o cat |
    grep -q 'pass finished: read 3, new 3, created 3'
}
check "the journal has the pass's summary at priority info" wait_for 10 summary_at_info

appended=$EPOCHREALTIME
ct sh -c 'echo "main-4,Grace,Hopper,grace@example.com,(626) 555-0144,2024-03-02 10:00:00" \
  >> /srv/exports/customers.csv'
check "a row appended inside the container reaches the fake within 10 s (watch)" \
  wait_for 10 created_ids acct-main main-1 main-2 main-3 main-4
echo "        created $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $appended }") s after it was appended (source.settle = 1s)"

ct systemctl stop bluetape-sync.service
stopped_cleanly() {
  local result status
  result=$(ct systemctl show -P Result bluetape-sync.service)
  status=$(ct systemctl show -P ExecMainStatus bluetape-sync.service)
  [[ $result == success && $status == 0 ]] || {
    echo "        Result=$result ExecMainStatus=$status"
    return 1
  }
}
check "systemctl stop ends the daemon with status 0" stopped_cleanly

# --- A second account through the template ----------------------------------------------------
setup beta acct-beta "$beta_key" /etc/bluetape-sync/beta.toml /etc/bluetape-sync/beta.key \
  /srv/beta/customers.csv 2
ct systemctl start bluetape-sync@beta.service
check "bluetape-sync@beta starts" test $? = 0
check "the fake received the second account's 2 customers under its own id" \
  wait_for 30 created_ids acct-beta beta-1 beta-2
check "every request of the second account carried its own key" headers_right acct-beta "$beta_key"
check "the instance keeps its store in /var/lib/bluetape-sync-beta" \
  ct test -f /var/lib/bluetape-sync-beta/state.db
check "the main account received nothing more" created_ids acct-main main-1 main-2 main-3 main-4

# Both orders: the instance running, then the main unit; then the main unit first.
both_running() {
  local unit
  for unit in bluetape-sync.service bluetape-sync@beta.service; do
    ct systemctl --quiet is-active "$unit" || {
      echo "        $unit: $(ct systemctl show -P Result "$unit"), status $(ct systemctl show -P ExecMainStatus "$unit")"
      return 1
    }
  done
}
ct systemctl start bluetape-sync.service
check "the main unit starts beside a running instance" both_running
ct systemctl stop bluetape-sync.service bluetape-sync@beta.service
ct systemctl start bluetape-sync.service
ct systemctl start bluetape-sync@beta.service
check "an instance starts beside the running main unit" both_running
check "running side by side sent nothing twice" no_duplicates

# --- A configuration error is not restarted ---------------------------------------------------
setup broken acct-beta "$beta_key" /etc/bluetape-sync/broken.toml /etc/bluetape-sync/broken.key \
  /srv/broken/customers.csv 1 's/^watch = true$/&\nevery = "5m"/'
ct systemctl start bluetape-sync@broken.service 2>/dev/null
failed_with_78() {
  local state result status restarts
  state=$(ct systemctl show -P ActiveState bluetape-sync@broken.service)
  result=$(ct systemctl show -P Result bluetape-sync@broken.service)
  status=$(ct systemctl show -P ExecMainStatus bluetape-sync@broken.service)
  restarts=$(ct systemctl show -P NRestarts bluetape-sync@broken.service)
  [[ $state == failed && $status == 78 && $restarts == 0 ]] || {
    echo "        ActiveState=$state Result=$result ExecMainStatus=$status NRestarts=$restarts"
    return 1
  }
}
check "a config with an unknown key fails the unit with 78, not restarted" failed_with_78
names_the_key() {
  ct journalctl --no-pager -u bluetape-sync@broken.service -o cat | grep -q 'schedule.every'
}
check "the journal names the unknown key" names_the_key

# --- The one-pass service ---------------------------------------------------------------------
ct systemctl stop bluetape-sync.service
ct sh -c 'echo "main-5,Alan,Turing,alan@example.com,(626) 555-0155,2024-03-03 10:00:00" \
  >> /srv/exports/customers.csv'
ct systemctl start bluetape-sync-once.service
once_succeeded() {
  local result status
  result=$(ct systemctl show -P Result bluetape-sync-once.service)
  status=$(ct systemctl show -P ExecMainStatus bluetape-sync-once.service)
  [[ $result == success && $status == 0 ]] || {
    echo "        Result=$result ExecMainStatus=$status"
    return 1
  }
}
check "bluetape-sync-once runs one pass and exits 0" once_succeeded
check "the one pass sent the new row, and only it" \
  created_ids acct-main main-1 main-2 main-3 main-4 main-5

# --- Upgrade: running units restart ------------------------------------------------------------
# dpkg -i over the installed package runs postinst as an upgrade does.
upgrade() {
  ct env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold /root/bluetape-sync.deb \
    >>"$scratch/dpkg.log" 2>&1
}
ct systemctl stop bluetape-sync@beta.service
ct systemctl enable --now bluetape-sync.service 2>/dev/null
main_pid=$(ct systemctl show -P MainPID bluetape-sync.service)
check "dpkg -i over the installed package upgrades it" upgrade
restarted() {
  local pid
  pid=$(ct systemctl show -P MainPID bluetape-sync.service)
  ct systemctl --quiet is-active bluetape-sync.service && [[ $pid != 0 && $pid != "$main_pid" ]]
}
check "the upgrade restarted the running main unit" wait_for 30 restarted
check "the unit the operator enabled is still enabled after the upgrade" \
  unit_is bluetape-sync.service UnitFileState enabled

# --- Upgrade from the nested layout: the store moves --------------------------------------------
# The instance runs as earlier packages ran it, its store in /var/lib/bluetape-sync/beta (a
# drop-in brings back the old StateDirectory=), where systemd keeps a directory of links; the
# main unit cannot run then.
ct systemctl disable --now bluetape-sync.service 2>/dev/null
ct rm /var/lib/bluetape-sync /var/lib/bluetape-sync-beta
ct mv /var/lib/private/bluetape-sync-beta /var/lib/private/bluetape-sync/beta
ct mkdir -p /run/systemd/system/bluetape-sync@beta.service.d
printf '[Service]\nStateDirectory=\nStateDirectory=bluetape-sync/%%i\n' |
  ct tee /run/systemd/system/bluetape-sync@beta.service.d/old-layout.conf >/dev/null
ct systemctl daemon-reload
ct systemctl start bluetape-sync@beta.service
nested_running() {
  ct systemctl --quiet is-active bluetape-sync@beta.service &&
    ct journalctl --no-pager -u bluetape-sync@beta.service -o cat -n 20 |
    grep -q 'store=/var/lib/bluetape-sync/beta/state.db'
}
check "an instance runs with its store nested, as earlier packages ran it" wait_for 10 nested_running
# The new package's unit, without the drop-in, is what systemd loads at the upgrade's reload.
ct rm -r /run/systemd/system/bluetape-sync@beta.service.d
check "dpkg -i over a package whose instance runs nested upgrades it" upgrade
check "the upgrade moved the nested store to /var/lib/private/bluetape-sync-beta" \
  ct sh -c 'test -f /var/lib/private/bluetape-sync-beta/state.db && ! test -e /var/lib/private/bluetape-sync/beta'
moved_and_running() {
  ct systemctl --quiet is-active bluetape-sync@beta.service &&
    ct journalctl --no-pager -u bluetape-sync@beta.service -o cat -n 20 |
    grep -q 'store=/var/lib/bluetape-sync-beta/state.db'
}
check "the instance stopped for the move runs again on the moved store" wait_for 30 moved_and_running
ct sh -c 'echo "beta-3,Edsger,Dijkstra,edsger@example.com,(626) 555-0163,2024-03-04 10:00:00" \
  >> /srv/beta/customers.csv'
check "the moved store is used: the instance sends only its new row" \
  wait_for 30 created_ids acct-beta beta-1 beta-2 beta-3
main_posts=$(requests acct-main any | wc -l)
ct systemctl start bluetape-sync.service
check "after the move, the main unit runs beside the instance" both_running
main_passed() {
  ct systemctl show -P StatusText bluetape-sync.service | grep -q '^last pass ok: .*created 0,'
}
check "the main unit's store was kept: its first pass sent nothing" wait_for 30 main_passed
check "the main unit's store was kept: no request for the main account" \
  test "$(requests acct-main any | wc -l)" = "$main_posts"

# --- Removal stops every unit -----------------------------------------------------------------
both_running >/dev/null || ct systemctl start bluetape-sync.service bluetape-sync@beta.service
ct systemctl enable bluetape-sync@beta.service 2>/dev/null
ct env DEBIAN_FRONTEND=noninteractive dpkg -r bluetape-sync >>"$scratch/dpkg.log" 2>&1
check "dpkg -r removes the package" test $? = 0
all_stopped() {
  local unit running=0
  for unit in bluetape-sync.service bluetape-sync@beta.service bluetape-sync-once.timer; do
    ct systemctl --quiet is-active "$unit" && {
      echo "        $unit still running"
      running=1
    }
  done
  return "$running"
}
check "removal stopped the main unit and the instance" all_stopped
ct env DEBIAN_FRONTEND=noninteractive dpkg --purge bluetape-sync >>"$scratch/dpkg.log" 2>&1
check "dpkg --purge purges the package" test $? = 0
no_links_left() {
  local links
  links=$(ct find /etc/systemd/system -name 'bluetape-sync*')
  [[ -z $links ]] || {
    echo "        left after purge: $links"
    return 1
  }
}
check "purge leaves no unit enabled, the instance's included" no_links_left
check "nothing was ever created twice" no_duplicates

if ((failed > 0)); then
  echo "        the container's dpkg output and journal follow" >&2
  cat "$scratch/dpkg.log" >&2
  ct journalctl --no-pager -u 'bluetape-sync*' -n 80 >&2
fi
echo "$passed passed, $failed failed"
((failed == 0))
