"""Platform-wide faults for the diagnosis-depth scenarios (issue 17), written as the programs write them.

- Cluster DNS down: a Corefile edit that CoreDNS 1.11 refuses to parse (`plugin/forward: /etc/coredns/
  Corefile:N - Error during parsing: ...`, printed before it exits 1), so both coredns pods crash-loop and
  kube-dns has no ready endpoints; tenants' resolvers then time out (Node's `getaddrinfo EAI_AGAIN`, Go's
  `lookup HOST on 10.96.0.10:53: read udp ...: i/o timeout`), ESO cannot reach Google Secret Manager and
  Argo CD's repo-server cannot reach GitHub.
- Kyverno admission controller down: the API server cannot call the fail-closed webhooks, so the CronJob
  controller's Jobs, a rollout's pods and an HPA scale-up are refused (`failed calling webhook ...`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import policy_faults
from scenario import TENANT, live_pods

from synth import faults
from synth.builder import PlatformBuilder
from synth.meta import condition, set_condition, ts

Obj = dict[str, Any]
DNS_IP = "10.96.0.10"
ARGO_NS = "argocd"
REPO = "https://github.com/monobaselabs/monobase-infra.git"

COREFILE_ERROR = ("plugin/forward: /etc/coredns/Corefile:13 - Error during parsing: Wrong argument count or "
                  "unexpected line ending after '.'")


def _dns_timeout(host: str, src: str = "10.244.1.23:41234") -> str:
    return f"dial tcp: lookup {host} on {DNS_IP}:53: read udp {src}->{DNS_IP}:53: i/o timeout"


def coredns_corefile_typo(b: PlatformBuilder) -> list[Obj]:
    """The Corefile's forward line lost its upstream; every coredns pod exits at start-up."""
    cm = b.require("ConfigMap", "kube-system", "coredns")
    cm["data"]["Corefile"] = cm["data"]["Corefile"].replace("forward . /etc/resolv.conf {", "forward . {")
    pods = live_pods(b, "Deployment", "coredns", "kube-system")
    for p in pods:
        start = ts(b.now - timedelta(seconds=40))
        log = (f"{start[:-1]}.118Z\t[INFO] plugin/reload: Running configuration SHA512 = 5f3e\n"
               f"{COREFILE_ERROR}\n")
        faults.crashloop(b, p, "coredns", previous_log=log, restarts=9, since=timedelta(minutes=25))
    b.refresh()
    return pods


def tenant_dns_failures(b: PlatformBuilder) -> list[Obj]:
    """Two tenant APIs crash at start-up because their database host does not resolve (Node and Go)."""
    out = []
    node_api = live_pods(b, "Deployment", "api", TENANT)[0]
    node_log = (
        "Server starting on port 3000\n"
        "MongoServerSelectionError: getaddrinfo EAI_AGAIN mongodb-0.mongodb-headless.mycure-production.svc\n"
        "    at Timeout._onTimeout (/app/node_modules/mongodb/lib/sdam/topology.js:278:38)\n"
        "    at listOnTimeout (node:internal/timers:581:17)\n"
    )
    faults.crashloop(b, node_api, previous_log=node_log, restarts=6, since=timedelta(minutes=20))
    out.append(node_api)
    go_api = live_pods(b, "Deployment", "api", "lfh-staging")[0]
    go_log = ('{"level":"fatal","ts":1764928800.12,"msg":"cannot connect to postgres","error":"failed to connect '
              f'to `host=postgres.lfh-staging.svc.cluster.local user=app database=app`: hostname resolving error '
              f'({_dns_timeout("postgres.lfh-staging.svc.cluster.local", "10.244.2.31:52817")})"}}\n')
    faults.crashloop(b, go_api, previous_log=go_log, restarts=5, since=timedelta(minutes=19))
    out.append(go_api)
    b.refresh()
    return out


def external_secret_dns(b: PlatformBuilder) -> Obj:
    """ESO cannot reach Google Secret Manager: its gRPC dial fails to resolve the API host."""
    es = next(e for e in b.list("ExternalSecret") if e["metadata"]["namespace"] == TENANT)
    key = es["spec"]["data"][0]["remoteRef"]["key"]
    err = (f"error processing spec.data[0] (key: {key}), err: rpc error: code = Unavailable desc = connection "
           f'error: desc = "transport: Error while dialing: {_dns_timeout("secretmanager.googleapis.com", "10.244.1.9:38811")}"')
    faults.external_secret_failed(b, es, error=err, since=timedelta(minutes=22))
    return es


def argocd_repo_dns(b: PlatformBuilder, name: str = "lfh-staging") -> Obj:
    """The repo-server cannot fetch the Git repository: github.com does not resolve."""
    app = b.require("Application", ARGO_NS, name)
    msg = ("Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
           f'desc = failed to list refs: Get "{REPO}/info/refs?service=git-upload-pack": '
           + _dns_timeout("github.com", "10.244.2.17:52344"))
    st = app["status"]
    st["conditions"] = [{"lastTransitionTime": ts(b.now - timedelta(minutes=21)), "message": msg,
                         "type": "ComparisonError"}]
    st["sync"]["status"] = "Unknown"
    st["reconciledAt"] = ts(b.now - timedelta(seconds=50))
    return app


def cluster_dns_down(b: PlatformBuilder) -> dict[str, Any]:
    """The whole cascade: CoreDNS down and every consumer that noticed."""
    return {"coredns": coredns_corefile_typo(b), "tenants": tenant_dns_failures(b),
            "es": external_secret_dns(b), "app": argocd_repo_dns(b)}


# ------------------------------------------------------------------------------------------ admission webhook

WEBHOOK_DOWN = ('Internal error occurred: failed calling webhook "{hook}": failed to call webhook: Post '
                '"https://kyverno-svc.kyverno.svc:443/{path}?timeout=10s": no endpoints available for service '
                '"kyverno-svc"')


def kyverno_down(b: PlatformBuilder) -> dict[str, Any]:
    """The admission controller is OOMKilled; a rollout, a CronJob run and an HPA scale-up are refused."""
    pods = policy_faults.webhook_unreachable(b, b.workload("Deployment", TENANT, "api"))
    cj = b.list("CronJob", TENANT)[0]
    st = cj["status"]
    # the controller cannot create the Job, so lastScheduleTime stays at the last run that worked
    st["lastScheduleTime"] = ts(b.now - timedelta(hours=3))
    st["lastSuccessfulTime"] = ts(b.now - timedelta(hours=3) + timedelta(minutes=1))
    st.pop("active", None)
    b.add_event(cj, "FailedCreate", "Error creating job: " + WEBHOOK_DOWN.format(hook="validate.kyverno.svc-fail",
                                                                                  path="validate/fail"),
                "Warning", 4, first=b.now - timedelta(minutes=50), last=b.now - timedelta(minutes=2),
                component="cronjob-controller")
    hpa = b.list("HorizontalPodAutoscaler", TENANT)[0]
    b.add_event(hpa, "FailedRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above "
                "target; error: " + WEBHOOK_DOWN.format(hook="mutate.kyverno.svc-fail", path="mutate/fail"),
                "Warning", 4, component="horizontal-pod-autoscaler")
    set_condition(hpa, condition("AbleToScale", "False", "FailedUpdateScale",
                                 "the HPA controller was unable to update the target scale: Internal error "
                                 'occurred: failed calling webhook "mutate.kyverno.svc-fail"', b.now - timedelta(minutes=8)))
    b.refresh()
    return {"pods": pods, "cronjob": cj, "hpa": hpa}


# ------------------------------------------------------------------------------------------ gateway reachability

GW_NS, GW = "gateway-system", "shared-gateway"


def proxy_pods(b: PlatformBuilder) -> list[Obj]:
    return [p for p in b.list("Pod") if (p["metadata"].get("labels") or {}).get(
        "gateway.envoyproxy.io/owning-gateway-name") == GW]


def gateway_ingress_same_namespace_only(b: PlatformBuilder, ns: str = TENANT, requests: int = 4) -> Obj:
    """A hardening change rewrote the tenant's allow-from-gateway policy to admit only its own namespace;
    the proxies (in envoy-gateway-system) now time out connecting to the api pods and answer 503 UF."""
    pol = b.require("NetworkPolicy", ns, "allow-from-gateway")
    pol["spec"]["ingress"] = [{"from": [{"podSelector": {}}], "ports": [{"port": 8080, "protocol": "TCP"}]}]
    pol["metadata"]["generation"] = pol["metadata"].get("generation", 1) + 1
    route = b.require("HTTPRoute", ns, "api")
    host = route["spec"]["hostnames"][0]
    pods = live_pods(b, "Deployment", "api", ns)
    for i, proxy in enumerate(proxy_pods(b)):
        key = (proxy["metadata"]["namespace"], proxy["metadata"]["name"], "envoy", False)
        lines = []
        for n in range(requests):
            when = b.now - timedelta(seconds=40 * (requests - n) + 7 * i)
            target = pods[(n + i) % len(pods)]["status"]["podIP"]
            rec = {"start_time": ts(when)[:-1] + ".112Z", "method": "GET", "x-envoy-origin-path": "/v1/patients",
                   "protocol": "HTTP/2", "response_code": 503, "response_flags": "UF",
                   "response_code_details": "upstream_reset_before_response_started{connection_timeout}",
                   "connection_termination_details": None, "upstream_transport_failure_reason": None,
                   "bytes_received": 0, "bytes_sent": 91, "duration": 10001,
                   "x-envoy-upstream-service-time": None, "x-forwarded-for": "203.0.113.24",
                   "user-agent": "okhttp/4.12.0", "x-request-id": f"5b1f0c4e-9d6a-4c1e-8f7a-{i}{n:011d}",
                   ":authority": host, "upstream_host": f"{target}:8080",
                   "upstream_cluster": f"httproute/{ns}/api/rule/0",
                   "route_name": f"httproute/{ns}/api/rule/0/match/0/{host.replace('.', '_')}"}
            lines.append(json.dumps(rec, separators=(",", ":")))
        b.logs[key] = (b.logs.get(key) or "") + "\n".join(lines) + "\n"
    return pol
