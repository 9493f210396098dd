#!/usr/bin/env bash
# The container image, checked without a Docker engine: runs the Dockerfile's `dotnet publish`, starts the
# published app from its own folder (the image's WORKDIR) with the image's environment (Production, one HTTP
# port, SQLite under data/, required settings from variables), runs the HEALTHCHECK command exactly as the
# image does, curls /healthz, stops the app, and checks the health check then fails. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must match the Dockerfile, or this check no longer proves anything about the image.
publish='dotnet publish src/VideoCallbacks.Api/VideoCallbacks.Api.csproj -c Release -o /app --no-restore /p:UseAppHost=false'
healthcheck='CMD ["dotnet", "VideoCallbacks.Api.dll", "healthcheck"]'
for line in "RUN $publish" "$healthcheck" 'ENV ASPNETCORE_HTTP_PORTS=8080' 'ASPNETCORE_ENVIRONMENT=Production'; do
  grep -qF -- "$line" Dockerfile || { echo "FATAL: the Dockerfile no longer has '$line'; update .ci/image-check.sh to match." >&2; exit 1; }
done

work=$(mktemp -d /tmp/vc-image.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

dotnet restore src/VideoCallbacks.Api/VideoCallbacks.Api.csproj -v quiet >/dev/null
# shellcheck disable=SC2086 # the Dockerfile's arguments, with the output folder moved to the temp dir
${publish/-o \/app/-o $work/app} -v quiet -nologo >/dev/null
mkdir -p "$work/app/data"   # the image creates /app/data for the SQLite default

# A port that nothing listens on (below the ephemeral range, like the tests); 8080 may be taken on a shared machine.
port=
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 10000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "FATAL: no free port found" >&2; exit 1; }

# The image's environment: what the Dockerfile sets (with the port moved), plus the settings a deployment must give.
image_env=(
  -u ASPNETCORE_URLS -u ASPNETCORE_HTTPS_PORTS -u DOTNET_ENVIRONMENT
  ASPNETCORE_ENVIRONMENT=Production
  ASPNETCORE_HTTP_PORTS="$port"
  DOTNET_RUNNING_IN_CONTAINER=true
  Auth__ApiKeys__0=ci-image-client-key-0123456789abcdef
  Auth__AdminApiKeys__0=ci-image-admin-key-0123456789abcdef
  Callbacks__PublicBaseUrl="http://127.0.0.1:$port"
)

(cd "$work/app" && exec env "${image_env[@]}" dotnet VideoCallbacks.Api.dll) >"$work/app.log" 2>&1 &
pid=$!

fail() { echo "FATAL: $1" >&2; echo "---- app output ----" >&2; tail -n 60 "$work/app.log" >&2; exit 1; }

# Wait (bounded) for the app to answer; it may take a while on a busy machine.
for _ in $(seq 120); do
  kill -0 "$pid" 2>/dev/null || fail "the published app exited during start-up"
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.5
done

# HEALTHCHECK runs inside the container, in WORKDIR, with the container's environment.
(cd "$work/app" && env "${image_env[@]}" dotnet VideoCallbacks.Api.dll healthcheck) \
  || fail "'dotnet VideoCallbacks.Api.dll healthcheck' reported the running app unhealthy"
body=$(curl -fsS "http://127.0.0.1:$port/healthz") || fail "GET /healthz failed"
echo "GET /healthz -> $body"
[ -f "$work/app/data/videocallbacks.db" ] || fail "the SQLite default (data/videocallbacks.db under the app folder) was not created"

kill -TERM "$pid"
for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$pid" 2>/dev/null && fail "the app did not stop within 30 s of SIGTERM"
pid=

# With the app gone the same check must say unhealthy, or it would never catch a dead container.
if (cd "$work/app" && env "${image_env[@]}" dotnet VideoCallbacks.Api.dll healthcheck) >/dev/null 2>&1; then
  echo "FATAL: the healthcheck passed with the app stopped" >&2; exit 1
fi
echo "Container image check OK: published app healthy on port $port (healthcheck command and GET /healthz), unhealthy once stopped"
