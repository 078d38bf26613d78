#!/usr/bin/env bash
# Offline validation of deploy/ and k8s/, for CI and by hand:
#   k8s/validate.sh [--install]
# 1. renders k8s/base, every k8s/overlays/*, and base + every k8s/components/* with `kubectl kustomize`
# 2. validates every rendered resource against the Kubernetes JSON schemas (kubernetes-validate --strict) for
#    each version in K8S_VERSIONS (default "1.32.0 1.30.0": the target, and the oldest supported, the first
#    with the preStop sleep handler on by default); CRDs with no bundled schema get a structural check here
# 3. runs checkov (framework kubernetes, offline) on the rendered output: zero failed checks allowed, skips
#    only from k8s/checkov-skips.txt, each of which must be explained in k8s/README.md
# 4. yamllint (the repository's .yamllint) on deploy/ and k8s/
# 5. hadolint on deploy/Dockerfile, and `nginx -t` on deploy/nginx.conf (when nginx is installed)
# 6. when TOKENMINT_RELEASE_BINARY is set: deploy/check-runtime-deps.sh on it (a --static-swift-stdlib build)
# 7. when TOKENMINT_BINARY is set (a build with Redis-shared mode; needs redis-server): k8s/settings-smoke.py
#    starts it with each rendered overlay's settings and secret files, and requires /readyz 200, exit 0 on SIGTERM
# Tools: kubectl (with kustomize v5) from the machine image; the Python tools from k8s/requirements.txt, found
# on PATH or in $K8S_VALIDATE_VENV/bin. --install creates that virtualenv first. Exits non-zero on any failure.
set -uo pipefail

k8s_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$k8s_dir/.." && pwd)"
venv="${K8S_VALIDATE_VENV:-/tmp/tokenmint-k8s-venv}"
versions="${K8S_VERSIONS:-1.32.0 1.30.0}"

if [ "${1:-}" = "--install" ]; then
    echo "== installing k8s/requirements.txt into $venv"
    python3 -m venv "$venv" || { echo "FATAL: python3 -m venv failed (Debian: apt-get install -y python3-venv)"; exit 2; }
    timeout 900 "$venv/bin/pip" install -q --disable-pip-version-check -r "$k8s_dir/requirements.txt" \
        || { echo "FATAL: pip install -r k8s/requirements.txt failed"; exit 2; }
fi
[ -d "$venv/bin" ] && export PATH="$venv/bin:$PATH"

# ---- tools ------------------------------------------------------------------------------------------------
if ! command -v kubectl >/dev/null 2>&1; then
    echo "FATAL: kubectl is not installed. validate.sh needs kubectl with kustomize v5 (kubectl kustomize)."
    echo "       Debian's 'kubernetes-client' package is too old and conflicts with it: use the machine image's kubectl."
    exit 2
fi
kustomize_version="$(kubectl version --client 2>/dev/null | awk -F': ' '/Kustomize Version/ {print $2}')"
case "$kustomize_version" in
    v5.*) ;;
    *) echo "FATAL: kubectl's kustomize is '${kustomize_version:-unknown}', v5 is needed"; exit 2 ;;
esac
missing=()
for tool in kubernetes-validate checkov yamllint hadolint; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "FATAL: missing ${missing[*]}: run k8s/validate.sh --install (or pip install -r k8s/requirements.txt)"
    exit 2
fi
python_of_tools="$(head -n 1 "$(command -v kubernetes-validate)" | sed 's/^#!//')"

out="$(mktemp -d /tmp/tokenmint-k8s-validate.XXXXXX)"
trap 'rm -rf "$out"' EXIT
declare -a summary=()
failures=0
record() { # STATUS WHAT
    summary+=("$(printf '%-5s %s' "$1" "$2")")
    [ "$1" = FAIL ] && failures=$((failures + 1))
}

echo "kubectl $(kubectl version --client 2>/dev/null | head -n 1 | awk '{print $3}'), kustomize $kustomize_version," \
     "kubernetes-validate $(kubernetes-validate --version), $(checkov --version 2>/dev/null | tail -n 1 | sed 's/^/checkov /')," \
     "$(yamllint --version), $(hadolint --version | head -n 1)"

# ---- 1. render --------------------------------------------------------------------------------------------
echo; echo "== render (kubectl kustomize)"
mkdir -p "$out/rendered"
targets=("base:$k8s_dir/base")
for dir in "$k8s_dir"/overlays/*/; do
    targets+=("overlay-$(basename "$dir"):${dir%/}")
done
for dir in "$k8s_dir"/components/*/; do
    name="base+$(basename "$dir")"
    wrapper="$out/wrappers/$name"
    mkdir -p "$wrapper"
    # kustomize wants relative paths to directories outside the kustomization root
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: tokenmint\nresources: [%s]\ncomponents: [%s]\n' \
        "$(realpath --relative-to="$wrapper" "$k8s_dir/base")" "$(realpath --relative-to="$wrapper" "${dir%/}")" \
        > "$wrapper/kustomization.yaml"
    targets+=("$name:$wrapper")
done
rendered=()
for target in "${targets[@]}"; do
    name="${target%%:*}"; dir="${target#*:}"
    file="$out/rendered/$name.yaml"
    if kubectl kustomize "$dir" > "$file" 2> "$out/render-$name.err"; then
        count="$(grep -c '^kind: ' "$file")"
        echo "ok    $name: $count resources"
        record ok "render $name ($count resources)"
        rendered+=("$file")
    else
        echo "FAIL  $name:"; sed 's/^/      /' "$out/render-$name.err"
        record FAIL "render $name"
    fi
done

# ---- 2. schemas -------------------------------------------------------------------------------------------
echo; echo "== kubernetes-validate --strict (Kubernetes $versions)"
for file in "${rendered[@]}"; do
    name="$(basename "$file" .yaml)"
    for version in $versions; do
        result="$(kubernetes-validate --strict -k "$version" "$file" 2>&1)"; rc=$?
        errors="$(grep -E '^(ERROR|FATAL)' <<< "$result")"
        passed="$(grep -c '^INFO .* passed' <<< "$result")"
        unknown="$(grep -E "^WARN .*Couldn't find schema" <<< "$result" | grep -v 'kind ServiceMonitor with api version monitoring.coreos.com/v1 ')"
        if [ "$rc" -ne 0 ] || [ -n "$errors" ] || [ -n "$unknown" ]; then
            echo "FAIL  $name @ $version"; { echo "$errors"; echo "$unknown"; } | grep . | sed 's/^/      /'
            record FAIL "schemas $name @ $version"
        else
            echo "ok    $name @ $version: $passed resources valid"
            record ok "schemas $name @ $version ($passed resources)"
        fi
    done
done
# ServiceMonitor (a Prometheus Operator CRD: no bundled schema): check its shape and that it matches the Service.
for file in "${rendered[@]}"; do
    grep -q '^kind: ServiceMonitor' "$file" || continue
    name="$(basename "$file" .yaml)"
    if result="$("$python_of_tools" - "$file" 2>&1 <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
services = [d for d in docs if d["kind"] == "Service"]
problems = []
for sm in (d for d in docs if d["kind"] == "ServiceMonitor"):
    allowed_top = {"apiVersion", "kind", "metadata", "spec"}
    if set(sm) - allowed_top: problems.append(f"unexpected top-level keys {set(sm) - allowed_top}")
    if sm["apiVersion"] != "monitoring.coreos.com/v1": problems.append("apiVersion must be monitoring.coreos.com/v1")
    spec = sm.get("spec", {})
    allowed_spec = {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels",
                    "sampleLimit", "targetLimit", "attachMetadata"}
    if set(spec) - allowed_spec: problems.append(f"unknown spec keys {set(spec) - allowed_spec}")
    selector = spec.get("selector", {}).get("matchLabels", {})
    endpoints = spec.get("endpoints", [])
    if not selector or not endpoints: problems.append("selector.matchLabels and endpoints are required")
    matching = [s for s in services if selector.items() <= s["metadata"].get("labels", {}).items()
                and s["metadata"].get("namespace") == sm["metadata"].get("namespace")]
    if not matching: problems.append(f"selector {selector} matches no Service in the same namespace")
    allowed_ep = {"port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels", "relabelings",
                  "metricRelabelings", "targetPort", "params", "tlsConfig", "bearerTokenSecret", "authorization"}
    for ep in endpoints:
        if set(ep) - allowed_ep: problems.append(f"unknown endpoint keys {set(ep) - allowed_ep}")
        for s in matching:
            if ep.get("port") not in [p.get("name") for p in s["spec"]["ports"]]:
                problems.append(f"endpoint port {ep.get('port')!r} is no named port of Service {s['metadata']['name']}")
    print(f"ServiceMonitor {sm['metadata']['name']} -> Service {[s['metadata']['name'] for s in matching]}")
if problems:
    print("\n".join(problems)); sys.exit(1)
PY
)"; then
        echo "ok    $name: $result (structural check; no bundled CRD schema)"
        record ok "ServiceMonitor structure in $name"
    else
        echo "FAIL  $name: ServiceMonitor"; sed 's/^/      /' <<< "$result"
        record FAIL "ServiceMonitor structure in $name"
    fi
done

# ---- 3. checkov -------------------------------------------------------------------------------------------
echo; echo "== checkov (framework kubernetes, offline)"
skips="$(grep -v '^\s*#' "$k8s_dir/checkov-skips.txt" | awk 'NF {print $1}' | paste -sd, -)"
undocumented=()
for id in ${skips//,/ }; do
    grep -q "$id" "$k8s_dir/README.md" || undocumented+=("$id")
done
if [ "${#undocumented[@]}" -gt 0 ]; then
    echo "FAIL  skipped checks not explained in k8s/README.md: ${undocumented[*]}"
    record FAIL "checkov skips documented"
fi
mkdir -p "$out/checkov"
cp "${rendered[@]}" "$out/checkov/"
checkov_args=(-d "$out/checkov" --framework kubernetes --compact --quiet --skip-download)
[ -n "$skips" ] && checkov_args+=(--skip-check "$skips")
# BC_SKIP_MAPPING: no call to the vendor's guideline API (the check runs offline).
BC_SKIP_MAPPING=TRUE checkov "${checkov_args[@]}" > "$out/checkov.txt" 2> "$out/checkov.err"; rc=$?
counts="$(grep -m1 -E '^Passed checks:' "$out/checkov.txt")"
failed_checks="$(sed -n 's/.*Failed checks: \([0-9]*\).*/\1/p' <<< "$counts")"
if [ "$rc" -eq 0 ] && [ "${failed_checks:-x}" = 0 ]; then
    echo "ok    $counts (skips: ${skips:-none})"
    record ok "checkov: $counts"
elif [ -z "$counts" ] && [ "$rc" -eq 0 ]; then
    echo "FAIL  checkov reported no result (rc $rc)"; tail -n 20 "$out/checkov.err" | sed 's/^/      /'
    record FAIL "checkov: no result"
else
    echo "FAIL  ${counts:-checkov rc $rc}"; grep -E '^Check:|FAILED for|File:' "$out/checkov.txt" | sed 's/^/      /'
    tail -n 5 "$out/checkov.err" | sed 's/^/      /'
    record FAIL "checkov: ${counts:-rc $rc}"
fi

# ---- 4. yamllint ------------------------------------------------------------------------------------------
echo; echo "== yamllint (.yamllint) on deploy/ and k8s/"
if yamllint -c "$repo/.yamllint" -f parsable "$repo/deploy" "$repo/k8s" "$repo/.yamllint" > "$out/yamllint.txt" 2>&1; then
    files="$(cd "$repo" && find deploy k8s -name '*.yaml' -o -name '*.yml' | wc -l)"
    echo "ok    $files YAML files clean"
    record ok "yamllint ($files files)"
else
    echo "FAIL"; sed 's/^/      /' "$out/yamllint.txt"
    record FAIL "yamllint"
fi

# ---- 5. Dockerfile and nginx ------------------------------------------------------------------------------
echo; echo "== hadolint deploy/Dockerfile"
if hadolint --config "$repo/deploy/.hadolint.yaml" "$repo/deploy/Dockerfile" > "$out/hadolint.txt" 2>&1; then
    echo "ok    no findings (ignored, with reasons: deploy/.hadolint.yaml)"
    record ok "hadolint"
else
    echo "FAIL"; sed 's/^/      /' "$out/hadolint.txt"
    record FAIL "hadolint"
fi
echo; echo "== nginx -t deploy/nginx.conf"
if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$out/nginx"
    # the compose service names do not resolve here: point them at loopback, and the temp paths at $out
    sed -e 's/tokenmint-\([0-9]\):8080/127.0.0.1:1808\1/' -e "s#/tmp/#$out/nginx/#g" "$repo/deploy/nginx.conf" > "$out/nginx/nginx.conf"
    if nginx -t -q -p "$out/nginx" -c "$out/nginx/nginx.conf" -e "$out/nginx/error.log" > "$out/nginx.txt" 2>&1; then
        echo "ok    syntax and directives accepted by $(nginx -v 2>&1 | sed 's/.*: //')"
        record ok "nginx -t deploy/nginx.conf"
    else
        echo "FAIL"; sed 's/^/      /' "$out/nginx.txt"
        record FAIL "nginx -t deploy/nginx.conf"
    fi
else
    echo "skip  nginx not installed (apt-get install -y nginx-light)"
    record skip "nginx -t deploy/nginx.conf (nginx not installed)"
fi

# ---- 6. runtime packages of the image ---------------------------------------------------------------------
if [ -n "${TOKENMINT_RELEASE_BINARY:-}" ]; then
    echo; echo "== deploy/check-runtime-deps.sh $TOKENMINT_RELEASE_BINARY"
    if "$repo/deploy/check-runtime-deps.sh" "$TOKENMINT_RELEASE_BINARY" > "$out/deps.txt" 2>&1; then
        sed 's/^/      /' "$out/deps.txt"; record ok "runtime packages of deploy/Dockerfile"
    else
        sed 's/^/      /' "$out/deps.txt"; record FAIL "runtime packages of deploy/Dockerfile"
    fi
fi

# ---- 7. the binary accepts the rendered settings ----------------------------------------------------------
if [ -n "${TOKENMINT_BINARY:-}" ]; then
    echo; echo "== settings smoke: $TOKENMINT_BINARY with each rendered overlay's settings"
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "FAIL  redis-server is not installed (apt-get install -y redis-server)"
        record FAIL "settings smoke (no redis-server)"
    else
        smoke_files=()
        for file in "${rendered[@]}"; do
            case "$(basename "$file")" in base+*) ;; *) smoke_files+=("$file") ;; esac
        done
        if timeout 300 "$python_of_tools" "$k8s_dir/settings-smoke.py" "$TOKENMINT_BINARY" "${smoke_files[@]}" > "$out/smoke.txt" 2>&1; then
            sed 's/^/      /' "$out/smoke.txt"; record ok "settings smoke (${#smoke_files[@]} renderings)"
        else
            sed 's/^/      /' "$out/smoke.txt"; record FAIL "settings smoke"
        fi
    fi
fi

echo; echo "== summary"
printf '%s\n' "${summary[@]}"
oks="$(printf '%s\n' "${summary[@]}" | grep -c '^ok')"
echo
echo "$oks passed, $failures failed"
[ "$failures" -eq 0 ]
