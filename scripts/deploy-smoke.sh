#!/usr/bin/env bash
# Exercise the production commands of docs/deployment.md on this machine, then stop
# everything again: a throwaway PostgreSQL 15 (scripts/with-postgres.sh), a clean copy of
# the committed code (git archive HEAD) so the shared checkout's staticfiles/ and .mo files
# are left alone, DJANGO_SETTINGS_MODULE=config.settings.prod, migrate, collectstatic,
# compilemessages, check --deploy, two gunicorn app processes on loopback ports sharing one
# MEDIA_ROOT, one db_worker, start_scheduler, and requests through each app process the way
# the reverse proxy sends them (Host + X-Forwarded-Proto: https).
# Usage: scripts/deploy-smoke.sh        Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ -z "${DEPLOY_SMOKE_INNER:-}" ]; then
  export DEPLOY_SMOKE_INNER=1
  exec scripts/with-postgres.sh "$repo/scripts/deploy-smoke.sh"
fi

: "${DATABASE_URL:?run through scripts/with-postgres.sh}"
VENV=$repo/.venv
HOST_NAME=crm.example.com
START=$(date +%s)
pass=0
pids=()
work=$(mktemp -d -t leadflow-deploy.XXXXXX)

step() { echo "--- $*"; }
ok() { pass=$((pass + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "==== $log (last 30 lines)" >&2; tail -n 30 "$log" >&2; }
  done
  exit 1
}
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# --- a clean copy of the committed code, as on a server (/srv/leadflow) ----------------
step "copy of HEAD ($(git rev-parse --short HEAD)) into $work/app"
mkdir -p "$work/app" "$work/media"
git archive HEAD | tar -x -C "$work/app"
# Chart.js from npm (scripts/ensure-assets.sh runs npm ci inside the copy).
app=$work/app
cd "$app"
scripts/ensure-assets.sh || fail "scripts/ensure-assets.sh"
[ -f static_vendor/chart.umd.min.js ] || fail "static_vendor/chart.umd.min.js missing"
ok "scripts/ensure-assets.sh: static_vendor/chart.umd.min.js present"

# --- the production environment (docs/deployment.md, "Environment") ---------------------
export DJANGO_SETTINGS_MODULE=config.settings.prod
SECRET_KEY=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY
export ALLOWED_HOSTS=$HOST_NAME
export CSRF_TRUSTED_ORIGINS=https://$HOST_NAME
export LEADFLOW_BASE_URL=https://$HOST_NAME
export MEDIA_ROOT=$work/media
export CONN_MAX_AGE=60
# E-mail: the prod default (SMTP to EMAIL_HOST=localhost:25); nothing is sent here.
PY=$VENV/bin/python

where=$("$PY" -c 'import leadflow, config; print(leadflow.__file__, config.__file__)')
case "$where" in
  "$app"/leadflow/*" $app"/config/*) ok "python imports the copy ($app)" ;;
  *) fail "python imports $where, not the copy" ;;
esac

run() { # run NAME COMMAND...: a documented command, its output in NAME.log
  local name=$1
  shift
  step "$*"
  "$@" >"$work/$name.log" 2>&1 || fail "$* (see $name.log)"
  ok "$*"
}

run migrate "$PY" manage.py migrate --no-input
run collectstatic "$PY" manage.py collectstatic --no-input
command -v msgfmt >/dev/null || "$repo/scripts/apt-ensure.sh" gettext
run compilemessages "$PY" manage.py compilemessages
[ -f locale/nl/LC_MESSAGES/django.mo ] || fail "locale/nl/LC_MESSAGES/django.mo not written"
run check-deploy "$PY" manage.py check --deploy --fail-level WARNING
run check-db "$PY" manage.py check --database default

# --- two app processes, one worker, the scheduler -----------------------------------------
port1=$(free_port 18001)
port2=$(free_port $((port1 + 1)))
for n in 1 2; do
  port_var=port$n
  step "gunicorn app process $n on 127.0.0.1:${!port_var}"
  "$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:${!port_var}" \
    --workers 2 --threads 2 --timeout 60 --no-control-socket --access-logfile - \
    >"$work/gunicorn$n.log" 2>&1 &
  pids+=($!)
done
step "db_worker"
"$PY" manage.py db_worker --interval 1 --no-reload >"$work/worker.log" 2>&1 &
pids+=($!)
run start-scheduler "$PY" manage.py start_scheduler
grep -q "Scheduler started" "$work/start-scheduler.log" || fail "start_scheduler said: $(cat "$work/start-scheduler.log")"

for port in "$port1" "$port2"; do
  up=false
  for _ in $(seq 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=true; break; fi
    sleep 0.2
  done
  $up || fail "gunicorn on 127.0.0.1:$port did not come up"
done
ok "both app processes listen ($port1, $port2)"

# Requests as the reverse proxy sends them.
proxied() { curl -sS --max-time 30 -H "Host: $HOST_NAME" -H "X-Forwarded-Proto: https" "$@"; }
chart=$("$PY" -c 'import json; print(json.load(open("staticfiles/staticfiles.json"))["paths"]["vendor/chart.umd.min.js"])')
for port in "$port1" "$port2"; do
  base=http://127.0.0.1:$port
  code=$(proxied -o "$work/login.html" -w '%{http_code}' "$base/login/")
  [ "$code" = 200 ] || fail "GET /login/ on :$port answered $code"
  grep -q 'csrfmiddlewaretoken' "$work/login.html" || fail "login page on :$port has no form"
  ok ":$port GET /login/ 200"

  code=$(proxied -o "$work/openapi.json" -w '%{http_code}' "$base/api/openapi.json")
  [ "$code" = 200 ] || fail "GET /api/openapi.json on :$port answered $code"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["paths"]' "$work/openapi.json" \
    || fail "/api/openapi.json on :$port is not an OpenAPI document"
  ok ":$port GET /api/openapi.json 200"

  headers=$(proxied -o /dev/null -D - -H 'Accept-Encoding: gzip' "$base/static/$chart")
  echo "$headers" | head -n 1 | grep -q ' 200' || fail "static $chart on :$port: $(echo "$headers" | head -n 1)"
  echo "$headers" | grep -qi '^cache-control: .*max-age=315360000.*immutable' \
    || fail "static $chart on :$port has no long cache header: $headers"
  ok ":$port GET /static/$chart 200, $(echo "$headers" | grep -i '^cache-control' | tr -d '\r')"

  code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $HOST_NAME" "$base/login/")
  [[ "$code" == "301 https://$HOST_NAME/login/" ]] || fail "plain HTTP on :$port answered $code"
  ok ":$port plain HTTP (no X-Forwarded-Proto) redirects: $code"

done

# Zero-downtime reload of app process 1 (systemctl reload = HUP): it keeps answering.
step "kill -HUP (gunicorn reload) of app process 1"
kill -HUP "${pids[0]}"
sleep 3
for _ in $(seq 50); do
  grep -q "Hang up" "$work/gunicorn1.log" && break
  sleep 0.2
done
grep -q "Hang up" "$work/gunicorn1.log" || fail "gunicorn on :$port1 did not log the HUP"
code=$(proxied -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port1/login/")
[ "$code" = 200 ] || fail "GET /login/ on :$port1 after HUP answered $code"
ok ":$port1 reloaded with HUP, GET /login/ 200 afterwards"

run backup "$PY" manage.py backup --output "$work/backups" --keep 2
ls "$work/backups" | grep -q . || fail "manage.py backup wrote nothing"
ok "backup archive: $(ls "$work/backups")"

# The worker runs the scheduler: a tick claims the jobs' slots within a few seconds.
ticked=false
for _ in $(seq 60); do
  n=$("$PY" manage.py shell -c 'from django_tasks_db.models import DBTaskResult; print(DBTaskResult.objects.filter(status="SUCCESSFUL").count())' 2>/dev/null | tail -n 1)
  if [ "${n:-0}" -gt 0 ] 2>/dev/null; then ticked=true; break; fi
  sleep 1
done
$ticked || fail "the db_worker finished no task within 60 s"
ok "db_worker finished $n task(s) (scheduler tick and the jobs it queued)"
run if-stale "$PY" manage.py start_scheduler --if-stale
grep -q "alive" "$work/if-stale.log" || fail "start_scheduler --if-stale: $(cat "$work/if-stale.log")"
ok "start_scheduler --if-stale: $(tail -n 1 "$work/if-stale.log")"

for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "process $pid died"; done
errors=$(cat "$work"/gunicorn*.log "$work/worker.log" | grep -c -E 'Traceback|ERROR|Error' || true)
[ "$errors" = 0 ] || fail "$errors error line(s) in the gunicorn/worker logs"
ok "no Traceback/ERROR in the gunicorn and worker logs"
# Last, as it logs a DisallowedHost error on purpose: a Host outside ALLOWED_HOSTS.
for port in "$port1" "$port2"; do
  code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -H "Host: evil.example" \
    -H "X-Forwarded-Proto: https" "http://127.0.0.1:$port/login/")
  [ "$code" = 400 ] || fail "unknown Host on :$port answered $code"
  ok ":$port unknown Host header 400"
done

step "stopping"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()
echo "deploy-smoke: $pass checks passed in $(($(date +%s) - START)) s (PostgreSQL $DATABASE_URL, app ports $port1 $port2)."
