#!/usr/bin/env bash
# Offline checks of deploy/: the Kubernetes manifests against the Kubernetes API
# schemas (strict: unknown fields are errors), the ServiceMonitor against
# deploy/kubernetes/schemas/servicemonitor.json, the output of `kustomize build`
# document by document, a few cross-references a schema cannot see (selectors,
# port names, the grace period), and the Grafana dashboard (valid JSON, a
# ${datasource} variable, only metrics the gateway exports).
#
# Needs only PyPI (kubernetes-validate bundles the schemas) and, once, the Go
# module proxy (kustomize is built with `go install` and cached). Exits non-zero
# on any invalid manifest.
#
# Usage: bash scripts/validate_manifests.sh
# Environment:
#   RSFS_VENV          virtualenv to use (default ~/.cache/redshift-flight-sql/venv,
#                      the one CI shares with scripts/python-venv.sh)
#   RSFS_K8S_VERSIONS  Kubernetes versions to validate against (default "1.30.0 1.37.0":
#                      the oldest we support and the newest the validator bundles)
#   RSFS_REQUIRE_KUSTOMIZE=1  fail instead of falling back when kustomize cannot be built
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$HOME/.cache/redshift-flight-sql"
venv="${RSFS_VENV:-$cache/venv}"
k8s_versions="${RSFS_K8S_VERSIONS:-1.30.0 1.37.0}"
python="${PYTHON:-python3}"
started=$SECONDS

# kubernetes-validate 1.37.0 bundles the schemas of Kubernetes 1.25 to 1.37.
pins=(kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.4)
# The newest kustomize that builds with this machine's Go (1.26); v5.8.3 needs Go 1.27.
kustomize_version=v5.8.2

log() { echo "validate-manifests: $*" >&2; }

# --- the validator, in the shared virtualenv (installed when the pins change) ---
stamp="$venv/.validate-manifests.pins"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "${pins[*]}" ] \
    || ! "$venv/bin/python" -c 'import kubernetes_validate, jsonschema, yaml' 2>/dev/null; then
    log "installing ${pins[*]} into $venv"
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    echo "${pins[*]}" > "$stamp"
fi

# --- kustomize, built once from the Go module proxy and cached ---
bindir="$cache/bin"
kustomize="$bindir/kustomize-$kustomize_version"
if [ ! -x "$kustomize" ]; then
    if command -v go >/dev/null 2>&1; then
        log "building kustomize $kustomize_version (once; cached as $kustomize)"
        mkdir -p "$bindir"
        tmp="$(mktemp -d)"
        t0=$SECONDS
        # GOTOOLCHAIN=local: never download another Go; a version this Go
        # cannot build fails here and the fallback below is used.
        if (cd "$tmp" && GOTOOLCHAIN=local GOBIN="$tmp/bin" timeout 900 \
                go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version") >"$tmp/log" 2>&1; then
            mv "$tmp/bin/kustomize" "$kustomize"
            log "built kustomize $kustomize_version in $((SECONDS - t0))s"
        else
            log "could not build kustomize $kustomize_version:"
            grep -v '^go: downloading' "$tmp/log" | tail -n 20 >&2 || true
        fi
        rm -rf "$tmp"
    else
        log "could not build kustomize: no Go toolchain on PATH"
    fi
fi

rendered="$(mktemp)"
trap 'rm -f "$rendered" "$rendered.err"' EXIT
# A failed render is reported by the checks below (after the sources are checked).
render_ok=1
if [ -x "$kustomize" ]; then
    renderer="kustomize $("$kustomize" version)"
    "$kustomize" build "$root/deploy/kubernetes" > "$rendered" 2> "$rendered.err" || render_ok=0
else
    if [ "${RSFS_REQUIRE_KUSTOMIZE:-0}" = 1 ]; then
        log "RSFS_REQUIRE_KUSTOMIZE=1 and no kustomize: failing"
        exit 1
    fi
    renderer="FALLBACK (no kustomize): the listed resources concatenated, no transformations"
    log "WARNING: $renderer"
    # The fallback only concatenates `resources:`; it refuses a kustomization
    # that asks for anything else, rather than validate something kubectl would
    # not apply.
    "$venv/bin/python" - "$root/deploy/kubernetes" > "$rendered" 2> "$rendered.err" <<'PY' || render_ok=0
import pathlib, sys
import yaml
base = pathlib.Path(sys.argv[1])
k = yaml.safe_load((base / "kustomization.yaml").read_text())
extra = sorted(set(k) - {"apiVersion", "kind", "resources"})
if extra:
    sys.exit(f"fallback renderer: cannot apply {', '.join(extra)} of kustomization.yaml; build kustomize")
for r in k["resources"]:
    text = (base / r).read_text()
    sys.stdout.write("---\n" + text + ("" if text.endswith("\n") else "\n"))
PY
fi

# --- the checks ---
[ "$render_ok" = 1 ] || : > "$rendered"
"$venv/bin/python" - "$root" "$rendered" "$renderer" "$k8s_versions" "$render_ok" <<'PY'
import functools
import json
import pathlib
import re
import sys

import jsonschema
import kubernetes_validate.utils as kv
import yaml

root = pathlib.Path(sys.argv[1])
rendered_path = pathlib.Path(sys.argv[2])
renderer = sys.argv[3]
versions = sys.argv[4].split()
render_ok = sys.argv[5] == "1"
kdir = root / "deploy" / "kubernetes"
dashboard_path = root / "deploy" / "grafana" / "redshift-flight-sql.json"

# kubernetes-validate reads the (large) schema files on every call: read each once.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)

# Kinds that are CRDs, not in the Kubernetes schemas: validated against our own.
CRD_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): kdir / "schemas" / "servicemonitor.json"}
crd_validators = {}
for key, path in CRD_SCHEMAS.items():
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    crd_validators[key] = jsonschema.Draft202012Validator(schema)

errors = []


def error(msg):
    errors.append(msg)
    print(f"FAIL  {msg}")


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last; kubectl refuses)."""


def _mapping(loader, node):
    loader.flatten_mapping(node)
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    dups = sorted({str(k) for k in keys if keys.count(k) > 1})
    if dups:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate key(s) {', '.join(dups)}", node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=True)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_docs(path, label):
    try:
        return [d for d in yaml.load_all(path.read_text(), Loader=UniqueKeyLoader) if d is not None]
    except yaml.YAMLError as e:
        error(f"{label}: not valid YAML: {e}")
        return []


def ident(doc):
    name = (doc.get("metadata") or {}).get("name", "<no name>")
    return f"{doc.get('kind')}/{name}"


def validate_doc(doc, label):
    if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
        error(f"{label}: a document without apiVersion and kind")
        return
    if not (doc.get("metadata") or {}).get("name"):
        error(f"{label}: {doc['kind']} without metadata.name")
        return
    key = (doc["apiVersion"], doc["kind"])
    if key in crd_validators:
        problems = sorted(crd_validators[key].iter_errors(doc), key=lambda e: list(e.path))
        for e in problems:
            error(f"{label}: {ident(doc)}: {CRD_SCHEMAS[key].relative_to(root)}: "
                  f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}")
        if not problems:
            print(f"ok    {label}: {ident(doc)} ({CRD_SCHEMAS[key].relative_to(root)})")
        return
    ok = []
    for version in versions:
        try:
            ok.append(kv.validate(doc, version, strict=True))
        except kv.ValidationError as e:
            error(f"{label}: {ident(doc)}: Kubernetes {e.version} (strict): "
                  f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}")
        except kv.SchemaNotFoundError:
            error(f"{label}: {ident(doc)}: no Kubernetes {version} schema for {doc['apiVersion']} {doc['kind']} "
                  f"(a typo, a removed API, or a CRD that needs a schema in deploy/kubernetes/schemas)")
        except kv.VersionNotSupportedError:
            sys.exit(f"kubernetes-validate does not bundle Kubernetes {version}")
    if len(ok) == len(versions):
        print(f"ok    {label}: {ident(doc)} (Kubernetes {', '.join(ok)}, strict)")


# 1. Each manifest, and the kustomization lists them all.
print(f"== manifests in {kdir.relative_to(root)} (Kubernetes {', '.join(versions)}, strict)")
kustomization = yaml.load((kdir / "kustomization.yaml").read_text(), Loader=UniqueKeyLoader)
listed = list(kustomization.get("resources") or [])
present = sorted(p.name for p in kdir.glob("*.yaml") if p.name != "kustomization.yaml")
for name in sorted(set(present) - set(listed)):
    error(f"{name} is not listed in kustomization.yaml resources")
for name in sorted(set(listed) - set(present)):
    error(f"kustomization.yaml lists {name}, which does not exist")
for name in present:
    for doc in load_docs(kdir / name, name):
        validate_doc(doc, name)

# 2. The rendered kustomization, document by document.
print(f"== rendered: {renderer}")
docs = []
if not render_ok:
    message = pathlib.Path(str(rendered_path) + ".err").read_text().strip()
    error(f"rendered: the build failed: {message}")
else:
    docs = load_docs(rendered_path, "rendered")
    for doc in docs:
        validate_doc(doc, "rendered")
    if not docs:
        error("rendered: the kustomization renders nothing")

# 3. Cross-references in the rendered set that no schema checks.
print("== cross-references")
by_kind = {}
for doc in docs:
    if isinstance(doc, dict):
        by_kind.setdefault(doc.get("kind"), []).append(doc)


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check(cond, msg):
    if cond:
        print(f"ok    {msg}")
    else:
        error(msg)


def duration_seconds(text):
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(text).strip())
    if str(text).strip().isdigit():
        return int(text)
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + s


configmaps = {c["metadata"]["name"]: c.get("data") or {} for c in by_kind.get("ConfigMap", [])}
for dep in by_kind.get("Deployment", []):
    name = dep["metadata"]["name"]
    pod = dep["spec"]["template"]
    labels = (pod.get("metadata") or {}).get("labels") or {}
    check(matches(dep["spec"]["selector"].get("matchLabels"), labels),
          f"Deployment/{name}: selector matches its pod labels")
    containers = pod["spec"]["containers"]
    port_names = {p.get("name"): p["containerPort"] for c in containers for p in c.get("ports", [])}
    # The grace period must outlast the drain (flag, env, ConfigMap, else the 30s default).
    drain = "30s"
    for c in containers:
        args = c.get("args", [])
        for src in c.get("envFrom", []):
            drain = configmaps.get((src.get("configMapRef") or {}).get("name"), {}).get("RSFS_DRAIN_TIMEOUT", drain)
        for e in c.get("env", []):
            if e.get("name") == "RSFS_DRAIN_TIMEOUT" and "value" in e:
                drain = e["value"]
        for i, a in enumerate(args):
            if a == "--drain-timeout" and i + 1 < len(args):
                drain = args[i + 1]
            elif a.startswith("--drain-timeout="):
                drain = a.split("=", 1)[1]
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    drain_s = duration_seconds(drain)
    check(drain_s is not None and grace > drain_s,
          f"Deployment/{name}: terminationGracePeriodSeconds {grace} > drain timeout {drain}")
    for svc in by_kind.get("Service", []):
        if not matches(svc["spec"].get("selector"), labels):
            continue
        for p in svc["spec"].get("ports", []):
            target = p.get("targetPort", p["port"])
            check(target in port_names or target in port_names.values(),
                  f"Service/{svc['metadata']['name']}: port {p.get('name')} targets container port {target}")
    for np in by_kind.get("NetworkPolicy", []):
        if matches(np["spec"]["podSelector"].get("matchLabels"), labels):
            for rule in np["spec"].get("ingress", []):
                for p in rule.get("ports", []):
                    check(p.get("port") in port_names or p.get("port") in port_names.values(),
                          f"NetworkPolicy/{np['metadata']['name']}: ingress port {p.get('port')} is a container port")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        check(matches(pdb["spec"]["selector"].get("matchLabels"), labels),
              f"PodDisruptionBudget/{pdb['metadata']['name']}: selects the pods of Deployment/{name}")
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref["kind"] == "Deployment" and ref["name"] == name,
              f"HorizontalPodAutoscaler/{hpa['metadata']['name']}: scales Deployment/{name}")
for sm in by_kind.get("ServiceMonitor", []):
    svcs = [s for s in by_kind.get("Service", [])
            if matches(sm["spec"]["selector"].get("matchLabels"), s["metadata"].get("labels") or {})]
    check(bool(svcs), f"ServiceMonitor/{sm['metadata']['name']}: selects a Service by its labels")
    for ep in sm["spec"]["endpoints"]:
        check(any(ep.get("port") in {p.get("name") for p in s["spec"]["ports"]} for s in svcs),
              f"ServiceMonitor/{sm['metadata']['name']}: endpoint port {ep.get('port')!r} is a Service port name")
        if ep.get("interval") and ep.get("scrapeTimeout"):
            check(duration_seconds(ep["scrapeTimeout"]) <= duration_seconds(ep["interval"]),
                  f"ServiceMonitor/{sm['metadata']['name']}: scrapeTimeout <= interval")

# 4. The Grafana dashboard.
print(f"== {dashboard_path.relative_to(root)}")
COUNTERS = {
    "grpc_server_started_total": {"grpc_service", "grpc_method"},
    "grpc_server_handled_total": {"grpc_service", "grpc_method", "grpc_code"},
    "rsfs_data_api_calls_total": {"operation", "outcome"},
    "rsfs_data_api_retries_total": {"operation"},
    "rsfs_data_api_rate_waits_total": {"operation"},
    "rsfs_result_rows_total": set(),
    "rsfs_result_bytes_total": set(),
    "rsfs_cache_lookups_total": {"outcome"},
    "rsfs_cache_evictions_total": {"cause"},
    "rsfs_auth_failures_total": {"reason"},
    "rsfs_stream_keepalives_total": set(),
}
GAUGES = {
    "rsfs_statements_running": set(),
    "rsfs_statements_in_flight": {"principal"},
    "rsfs_result_streams_open": set(),
    "rsfs_cache_bytes": set(),
    "rsfs_result_format": {"format"},
}
HISTOGRAMS = {
    "grpc_server_handling_seconds": {"grpc_service", "grpc_method"},
    "rsfs_statement_seconds": {"status"},
}
# Labels Prometheus adds to every scraped series (the ServiceMonitor adds the last ones).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "endpoint", "container"}
METRICS = {**COUNTERS, **GAUGES}
for h, labels in HISTOGRAMS.items():
    METRICS[h + "_bucket"] = labels | {"le"}
    METRICS[h + "_sum"] = labels
    METRICS[h + "_count"] = labels
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp",
    "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta", "deriv", "exp", "floor",
    "group", "histogram_quantile", "idelta", "increase", "irate", "label_join", "label_replace",
    "last_over_time", "ln", "log10", "log2", "max", "max_over_time", "min", "min_over_time", "predict_linear",
    "present_over_time", "quantile", "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort",
    "sort_desc", "sqrt", "stddev", "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk", "vector",
    "label_values",  # Grafana's variable query
}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^{}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"")


def check_expr(expr, where, used):
    """Names in a PromQL expression: metrics from the list, known functions, known labels."""
    problems = []
    text = re.sub(r"\$\{[^}]*\}|\$\w+", "0", expr)  # Grafana variables ($__rate_interval, $job)
    metrics_here = set()
    # label_values(<selector>, <label>): the last argument is a label name.
    lv = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*", text)
    extra_labels = []
    if lv:
        text, extra_labels = lv.group(1), [lv.group(2)]
    matcher_labels = []
    for m in SELECTOR.finditer(text):
        labels = MATCHER.findall(m.group(2))
        matcher_labels.append((m.group(1), labels))
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    grouping_labels = [l.strip() for g in GROUPING.finditer(body) for l in g.group(2).split(",") if l.strip()]
    body = GROUPING.sub(" ", body)
    body = re.sub(r"\{[^{}]*\}", " ", body)
    body = re.sub(r"\[[^\]]*\]", " ", body)
    for m in re.finditer(r"\d[\w.]*|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", body):
        name, call = m.group(1), m.group(2)
        if name is None:
            continue  # a number or a duration
        if call:
            if name not in FUNCTIONS:
                problems.append(f"unknown function {name}()")
        elif name in KEYWORDS:
            continue
        elif name in METRICS:
            metrics_here.add(name)
        elif name in HISTOGRAMS:
            problems.append(f"{name} is a histogram: use {name}_bucket, _sum or _count")
        else:
            problems.append(f"metric {name} is not one the gateway exports")
    allowed = set(TARGET_LABELS)
    for name in metrics_here:
        allowed |= METRICS[name]
    for metric, labels in matcher_labels:
        own = (METRICS.get(metric, set()) | TARGET_LABELS) if metric else allowed
        problems += [f"label {l} in a selector of {metric or 'a series'}" for l in labels if l not in own]
    problems += [f"label {l} in by/on/without" for l in grouping_labels + extra_labels if l not in allowed]
    if not metrics_here:
        problems.append("names no metric")
    used |= metrics_here
    for p in problems:
        error(f"dashboard {where}: {p}: {expr}")
    return not problems


try:
    dash = json.loads(dashboard_path.read_text())
except (OSError, json.JSONDecodeError) as e:
    error(f"dashboard: not valid JSON: {e}")
    dash = None
if dash is not None:
    check(isinstance(dash.get("schemaVersion"), int) and 36 <= dash["schemaVersion"] <= 41,
          f"dashboard: schemaVersion {dash.get('schemaVersion')} (36..41)")
    variables = (dash.get("templating") or {}).get("list") or []
    check(any(v.get("name") == "datasource" and v.get("type") == "datasource" and v.get("query") == "prometheus"
              for v in variables),
          "dashboard: a `datasource` template variable of type prometheus")

    def datasources(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasource":
                    yield path, v
                yield from datasources(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from datasources(v, f"{path}[{i}]")

    bad = [p for p, ds in datasources(dash, "$")
           if ds not in ("${datasource}", {"type": "prometheus", "uid": "${datasource}"})]
    for p in bad:
        error(f"dashboard: {p}: a datasource other than ${{datasource}} (no hard-coded uid)")
    panels = [p for p in dash.get("panels", [])]
    panels += [c for p in dash.get("panels", []) for c in p.get("panels", [])]
    ids = [p.get("id") for p in panels]
    check(len(ids) == len(set(ids)) and None not in ids, f"dashboard: {len(ids)} panels with unique ids")
    used = set()
    n_expr = 0
    all_ok = True
    for p in panels:
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            error(f"dashboard: panel {p.get('title')!r} has no query")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            error(f"dashboard: panel {p.get('title')!r} repeats a refId")
        for t in targets:
            n_expr += 1
            all_ok &= check_expr(t.get("expr", ""), f"panel {p.get('title')!r}", used)
    for v in variables:
        if v.get("type") == "query":
            q = v.get("query")
            n_expr += 1
            all_ok &= check_expr(q.get("query") if isinstance(q, dict) else q, f"variable ${v.get('name')}", used)
    if all_ok:
        print(f"ok    dashboard: {n_expr} queries name only exported metrics and labels")
    base_used = {re.sub(r"_(bucket|sum|count)$", "", m) if re.sub(r"_(bucket|sum|count)$", "", m) in HISTOGRAMS
                 else m for m in used}
    missing = sorted((set(COUNTERS) | set(GAUGES) | set(HISTOGRAMS)) - base_used)
    check(not missing, "dashboard: every exported metric has a panel"
          + (f" (missing: {', '.join(missing)})" if missing else ""))

if errors:
    print(f"validate-manifests: {len(errors)} problem(s)")
    sys.exit(1)
PY
log "all valid ($((SECONDS - started))s)"
