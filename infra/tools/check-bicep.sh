#!/usr/bin/env bash
# Restores the Bicep compiler from NuGet (infra/tools/bicep.proj) and runs `bicep build` and `bicep lint`
# on every .bicep and .bicepparam file under infra/. Any error *or warning* fails the check, so the
# templates stay clean. Used by .ci/run; run it by hand the same way: bash infra/tools/check-bicep.sh
set -euo pipefail
infra="$(cd "$(dirname "$0")/.." && pwd)"
cd "$infra"

version=$(sed -n 's/.*"Azure.Bicep.CommandLine.linux-x64" Version="\[\([^]]*\)\]".*/\1/p' tools/bicep.proj)
packages="$infra/tools/obj/packages"   # obj/ is git-ignored
bicep="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -x "$bicep" ]; then
  dotnet restore tools/bicep.proj --packages "$packages" -v quiet >/dev/null
  chmod +x "$bicep"
fi
"$bicep" --version

# main.bicepparam reads its secrets from the environment at compile time; checking needs placeholders
# of valid length (nothing is deployed).
export VC_POSTGRES_PASSWORD=ci-placeholder-password
export VC_CLIENT_API_KEY=ci-placeholder-client-key-0123456789
export VC_ADMIN_API_KEY=ci-placeholder-admin-key-0123456789

failed=0
check() { # <description> <command...>: fails on a non-zero exit or any diagnostic printed
  local output
  if ! output=$("${@:2}" 2>&1 >/dev/null) || [ -n "$output" ]; then
    echo "FAIL $1" >&2
    [ -n "$output" ] && echo "$output" >&2
    failed=1
  else
    echo "ok   $1"
  fi
}

mapfile -t files < <(find . -path ./tools -prune -o \( -name '*.bicep' -o -name '*.bicepparam' \) -print | sort)
[ ${#files[@]} -gt 0 ] || { echo "no Bicep files under $infra" >&2; exit 1; }
for f in "${files[@]}"; do
  case "$f" in
    *.bicepparam) check "bicep build-params $f" "$bicep" build-params "$f" --stdout ;;
    *) check "bicep build $f" "$bicep" build "$f" --stdout ;;
  esac
  check "bicep lint $f" "$bicep" lint "$f"
done

if [ "$failed" != 0 ]; then
  echo "FATAL: the Bicep templates under infra/ do not compile cleanly (see above)." >&2
  exit 1
fi
echo "Bicep: ${#files[@]} files build and lint clean"
