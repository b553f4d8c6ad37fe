#!/usr/bin/env bash
# Start the web app and the task worker together; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
PY=.venv/bin/python

pids=()
stop() {
  trap - INT TERM EXIT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait || true
  echo "Leadflow stopped."
}
trap stop INT TERM EXIT

"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
"$PY" manage.py start_scheduler
"$PY" manage.py db_worker --interval 1 --no-reload &
pids+=($!)

up=false
for _ in $(seq 100); do
  kill -0 "${pids[0]}" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then up=true; break; fi
  sleep 0.2
done
$up && cat <<MSG

  Leadflow runs at http://$HOST:$PORT
  Log in with a demo login printed above (load_demo), e.g. admin.
  The task worker runs beside it. Press Ctrl-C to stop both.

MSG
$up || echo "The web server did not come up; see the messages above." >&2
# Return as soon as one of the two exits; the EXIT trap then stops the other.
set +e
wait -n
status=$?
exit "$status"
