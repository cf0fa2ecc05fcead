"""Which kubectl flags take a value, per top-level verb (its subcommands included), from kubectl v1.32 --help.

Needed to tell a flag's value from a positional argument (`-n prod get pods`, `-l app=x delete pods`).
A flag not listed is treated as boolean. `--dry-run`, `--validate` and `--cascade` have an optional value
(only `--flag=value` sets it) and are deliberately absent. Regenerate by parsing `kubectl <verb> --help`
("--name='…'" and "--name=[]" are value flags, "--name=false|true" boolean).
"""

from __future__ import annotations

GLOBAL_VALUE_FLAGS = frozenset(
    "--as --as-group --as-uid --cache-dir --certificate-authority --client-certificate --client-key --cluster "
    "--context --kubeconfig --log-flush-frequency -n --namespace --password --profile --profile-output "
    "--request-timeout -s --server --tls-server-name --token --user --username -v --v --vmodule".split()
)

_VALUE_FLAGS = {
    "create": (
        "--aggregation-rule --annotation --audience --bound-object-kind --bound-object-name "
        "--bound-object-uid --cert --class --clusterip --clusterrole --default-backend --description "
        "--docker-email --docker-password --docker-server --docker-username --duration --external-name "
        "--field-manager --filename --from --from-env-file --from-file --from-literal --group --hard "
        "--image --key --kustomize --max-unavailable --min-available --node-port --non-resource-url "
        "--output --port --preemption-policy --raw --replicas --resource --resource-name --restart --role "
        "--rule --schedule --scopes --selector --serviceaccount --tcp --template --type --user --value "
        "--verb -f -k -l -o -r"
    ),
    "expose": (
        "--cluster-ip --external-ip --field-manager --filename --kustomize --labels --load-balancer-ip "
        "--name --output --override-type --overrides --port --protocol --selector --session-affinity "
        "--target-port --template --type -f -k -l -o"
    ),
    "run": (
        "--annotations --env --field-manager --filename --grace-period --image --image-pull-policy "
        "--kustomize --labels --output --override-type --overrides --pod-running-timeout --port --restart "
        "--template --timeout -f -k -l -o"
    ),
    "set": (
        "--containers --env --field-manager --filename --from --group --keys --kustomize --limits "
        "--output --prefix --requests --resource-version --selector --serviceaccount --template --user -c "
        "-e -f -k -l -o"
    ),
    "explain": "--api-version --output -o",
    "get": (
        "--chunk-size --field-selector --filename --kustomize --label-columns --output --raw --selector "
        "--sort-by --subresource --template -L -f -k -l -o"
    ),
    "edit": "--field-manager --filename --kustomize --output --subresource --template -f -k -o",
    "delete": (
        "--field-selector --filename --grace-period --kustomize --output --raw --selector --timeout -f -k "
        "-l -o"
    ),
    "rollout": (
        "--field-manager --filename --kustomize --output --revision --selector --template --timeout "
        "--to-revision -f -k -l -o"
    ),
    "scale": (
        "--current-replicas --filename --kustomize --output --replicas --resource-version --selector "
        "--template --timeout -f -k -l -o"
    ),
    "autoscale": (
        "--cpu-percent --field-manager --filename --kustomize --max --min --name --output --template -f "
        "-k -o"
    ),
    "certificate": "--filename --kustomize --output --template -f -k -o",
    "cluster-info": "--namespaces --output --output-directory --pod-running-timeout --template -o",
    "top": "--field-selector --selector --sort-by -l",
    "cordon": "--selector -l",
    "uncordon": "--selector -l",
    "drain": (
        "--chunk-size --grace-period --pod-selector --selector --skip-wait-for-delete-timeout --timeout "
        "-l"
    ),
    "taint": "--field-manager --output --selector --template -l -o",
    "describe": "--chunk-size --filename --kustomize --selector -f -k -l",
    "logs": (
        "--container --limit-bytes --max-log-requests --pod-running-timeout --selector --since "
        "--since-time --tail -c -l"
    ),
    "attach": "--container --pod-running-timeout -c",
    "exec": "--container --filename --pod-running-timeout -c -f",
    "port-forward": "--address --pod-running-timeout",
    "proxy": (
        "--accept-hosts --accept-paths --address --api-prefix --keepalive --port --reject-methods "
        "--reject-paths --unix-socket --www --www-prefix -P -p -u -w"
    ),
    "cp": "--container --retries -c",
    "auth": "--filename --kustomize --output --subresource --template -f -k -o",
    "debug": (
        "--container --copy-to --custom --env --filename --image --image-pull-policy --profile "
        "--set-image --target -c -f"
    ),
    "events": "--chunk-size --for --output --template --types -o",
    "diff": "--concurrency --field-manager --filename --kustomize --prune-allowlist --selector -f -k -l",
    "apply": (
        "--field-manager --filename --grace-period --kustomize --output --prune-allowlist --selector "
        "--subresource --template --timeout -f -k -l -o"
    ),
    "patch": (
        "--field-manager --filename --kustomize --output --patch --patch-file --subresource --template "
        "--type -f -k -o -p"
    ),
    "replace": (
        "--field-manager --filename --grace-period --kustomize --output --raw --subresource --template "
        "--timeout -f -k -o"
    ),
    "wait": "--field-selector --filename --for --output --selector --template --timeout -f -l -o",
    "kustomize": (
        "--env --helm-api-versions --helm-command --helm-kube-version --load-restrictor --mount "
        "--network-name --output -e -o"
    ),
    "label": (
        "--field-manager --field-selector --filename --kustomize --output --resource-version --selector "
        "--template -f -k -l -o"
    ),
    "annotate": (
        "--field-manager --field-selector --filename --kustomize --output --resource-version --selector "
        "--template -f -k -l -o"
    ),
    "completion": "",
    "api-resources": "--api-group --categories --output --sort-by --verbs -o",
    "api-versions": "",
    "config": (
        "--auth-provider --auth-provider-arg --certificate-authority --client-certificate --client-key "
        "--cluster --exec-api-version --exec-arg --exec-command --exec-env --exec-interactive-mode "
        "--namespace --output --password --proxy-url --server --template --tls-server-name --token --user "
        "--username -o"
    ),
    "plugin": "",
    "version": "--output -o",
    "options": "",
}

VALUE_FLAGS: dict[str, frozenset[str]] = {verb: frozenset(flags.split()) | GLOBAL_VALUE_FLAGS
                                          for verb, flags in _VALUE_FLAGS.items()}
VERBS = frozenset(VALUE_FLAGS) | {"alpha", "help"}
