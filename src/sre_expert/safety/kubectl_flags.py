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


# Every flag each verb accepts (its subcommands included), value or boolean, from `kubectl <verb> --help` of
# kubectl v1.32 (and `kubectl options` for the global ones). A flag outside these is one the guard does not
# model: the command is labelled unknown.
GLOBAL_FLAGS = frozenset(
    '--as --as-group --as-uid --cache-dir --certificate-authority --client-certificate --client-key --cluster '
    '--context --disable-compression --insecure-skip-tls-verify --kubeconfig --log-flush-frequency '
    '--match-server-version --namespace --password --profile --profile-output --request-timeout --server '
    '--tls-server-name --token --user --username --v --vmodule --warnings-as-errors -n -s -v'.split()
)

_ALL_FLAGS = {
    "annotate": (
        '--all --all-namespaces --allow-missing-template-keys --dry-run --field-manager --field-selector '
        '--filename --kustomize --list --local --output --overwrite --recursive --resource-version --selector '
        '--show-managed-fields --template -A -R -f -k -l -o'
    ),
    "api-resources": (
        '--api-group --cached --categories --namespaced --no-headers --output --sort-by --verbs -o'
    ),
    "api-versions": "",
    "apply": (
        '--all --allow-missing-template-keys --cascade --create-annotation --dry-run --field-manager --filename '
        '--force --force-conflicts --grace-period --kustomize --openapi-patch --output --overwrite --prune '
        '--prune-allowlist --recursive --selector --server-side --show-managed-fields --subresource --template '
        '--timeout --validate --wait --windows-line-endings -R -f -k -l -o'
    ),
    "attach": (
        '--container --pod-running-timeout --quiet --stdin --tty -c -i -q -t'
    ),
    "auth": (
        '--all-namespaces --allow-missing-template-keys --dry-run --filename --kustomize --list --no-headers '
        '--output --quiet --recursive --remove-extra-permissions --remove-extra-subjects --show-managed-fields '
        '--subresource --template -A -R -f -k -o -q'
    ),
    "autoscale": (
        '--allow-missing-template-keys --cpu-percent --dry-run --field-manager --filename --kustomize --max --min '
        '--name --output --recursive --save-config --show-managed-fields --template -R -f -k -o'
    ),
    "certificate": (
        '--allow-missing-template-keys --filename --force --kustomize --output --recursive --show-managed-fields '
        '--template -R -f -k -o'
    ),
    "cluster-info": (
        '--all-namespaces --allow-missing-template-keys --namespaces --output --output-directory '
        '--pod-running-timeout --show-managed-fields --template -A -o'
    ),
    "completion": "",
    "config": (
        '--allow-missing-template-keys --auth-provider --auth-provider-arg --certificate-authority '
        '--client-certificate --client-key --cluster --current --embed-certs --exec-api-version --exec-arg '
        '--exec-command --exec-env --exec-interactive-mode --exec-provide-cluster-info --flatten '
        '--insecure-skip-tls-verify --merge --minify --namespace --no-headers --output --password --proxy-url '
        '--raw --server --set-raw-bytes --show-managed-fields --template --tls-server-name --token --user '
        '--username -o'
    ),
    "cordon": (
        '--dry-run --selector -l'
    ),
    "cp": (
        '--container --no-preserve --retries -c'
    ),
    "create": (
        '--aggregation-rule --allow-missing-template-keys --annotation --append-hash --audience '
        '--bound-object-kind --bound-object-name --bound-object-uid --cert --class --clusterip --clusterrole '
        '--default-backend --description --docker-email --docker-password --docker-server --docker-username '
        '--dry-run --duration --edit --external-name --field-manager --filename --from --from-env-file '
        '--from-file --from-literal --global-default --group --hard --image --key --kustomize --max-unavailable '
        '--min-available --node-port --non-resource-url --output --port --preemption-policy --raw --recursive '
        '--replicas --resource --resource-name --restart --role --rule --save-config --schedule --scopes '
        '--selector --serviceaccount --show-managed-fields --tcp --template --type --user --validate --value '
        '--verb --windows-line-endings -R -f -k -l -o -r'
    ),
    "debug": (
        '--arguments-only --attach --container --copy-to --custom --env --filename --image --image-pull-policy '
        '--keep-annotations --keep-init-containers --keep-labels --keep-liveness --keep-readiness --keep-startup '
        '--profile --quiet --replace --same-node --set-image --share-processes --stdin --target --tty -c -f -i -q '
        '-t'
    ),
    "delete": (
        '--all --all-namespaces --cascade --dry-run --field-selector --filename --force --grace-period '
        '--ignore-not-found --interactive --kustomize --now --output --raw --recursive --selector --timeout '
        '--wait -A -R -f -i -k -l -o'
    ),
    "describe": (
        '--all-namespaces --chunk-size --filename --kustomize --recursive --selector --show-events -A -R -f -k -l'
    ),
    "diff": (
        '--concurrency --field-manager --filename --force-conflicts --kustomize --prune --prune-allowlist '
        '--recursive --selector --server-side --show-managed-fields -R -f -k -l'
    ),
    "drain": (
        '--chunk-size --delete-emptydir-data --disable-eviction --dry-run --force --grace-period '
        '--ignore-daemonsets --pod-selector --selector --skip-wait-for-delete-timeout --timeout -l'
    ),
    "edit": (
        '--allow-missing-template-keys --field-manager --filename --kustomize --output --output-patch --recursive '
        '--save-config --show-managed-fields --subresource --template --validate --windows-line-endings -R -f -k '
        '-o'
    ),
    "events": (
        '--all-namespaces --allow-missing-template-keys --chunk-size --for --no-headers --output '
        '--show-managed-fields --template --types --watch -A -o -w'
    ),
    "exec": (
        '--container --filename --pod-running-timeout --quiet --stdin --tty -c -f -i -q -t'
    ),
    "explain": (
        '--api-version --output --recursive -o'
    ),
    "expose": (
        '--allow-missing-template-keys --cluster-ip --dry-run --external-ip --field-manager --filename '
        '--kustomize --labels --load-balancer-ip --name --output --override-type --overrides --port --protocol '
        '--recursive --save-config --selector --session-affinity --show-managed-fields --target-port --template '
        '--type -R -f -k -l -o'
    ),
    "get": (
        '--all-namespaces --allow-missing-template-keys --chunk-size --field-selector --filename '
        '--ignore-not-found --kustomize --label-columns --no-headers --output --output-watch-events --raw '
        '--recursive --selector --server-print --show-kind --show-labels --show-managed-fields --sort-by '
        '--subresource --template --watch --watch-only -A -L -R -f -k -l -o -w'
    ),
    "kustomize": (
        '--as-current-user --enable-alpha-plugins --enable-helm --env --helm-api-versions --helm-command '
        '--helm-debug --helm-kube-version --load-restrictor --mount --network --network-name --output -e -o'
    ),
    "label": (
        '--all --all-namespaces --allow-missing-template-keys --dry-run --field-manager --field-selector '
        '--filename --kustomize --list --local --output --overwrite --recursive --resource-version --selector '
        '--show-managed-fields --template -A -R -f -k -l -o'
    ),
    "logs": (
        '--all-containers --all-pods --container --follow --ignore-errors --insecure-skip-tls-verify-backend '
        '--limit-bytes --max-log-requests --pod-running-timeout --prefix --previous --selector --since '
        '--since-time --tail --timestamps -c -f -l -p'
    ),
    "options": "",
    "patch": (
        '--allow-missing-template-keys --dry-run --field-manager --filename --kustomize --local --output --patch '
        '--patch-file --recursive --show-managed-fields --subresource --template --type -R -f -k -o -p'
    ),
    "plugin": (
        '--name-only'
    ),
    "port-forward": (
        '--address --pod-running-timeout'
    ),
    "proxy": (
        '--accept-hosts --accept-paths --address --api-prefix --append-server-path --disable-filter --keepalive '
        '--port --reject-methods --reject-paths --unix-socket --www --www-prefix -P -p -u -w'
    ),
    "replace": (
        '--allow-missing-template-keys --cascade --dry-run --field-manager --filename --force --grace-period '
        '--kustomize --output --raw --recursive --save-config --show-managed-fields --subresource --template '
        '--timeout --validate --wait -R -f -k -o'
    ),
    "rollout": (
        '--allow-missing-template-keys --dry-run --field-manager --filename --kustomize --output --recursive '
        '--revision --selector --show-managed-fields --template --timeout --to-revision --watch -R -f -k -l -o -w'
    ),
    "run": (
        '--allow-missing-template-keys --annotations --attach --cascade --command --dry-run --env --expose '
        '--field-manager --filename --force --grace-period --image --image-pull-policy --kustomize --labels '
        '--leave-stdin-open --output --override-type --overrides --pod-running-timeout --port --privileged '
        '--quiet --recursive --restart --rm --save-config --show-managed-fields --stdin --template --timeout '
        '--tty --wait -R -f -i -k -l -o -q -t'
    ),
    "scale": (
        '--all --allow-missing-template-keys --current-replicas --dry-run --filename --kustomize --output '
        '--recursive --replicas --resource-version --selector --show-managed-fields --template --timeout -R -f -k '
        '-l -o'
    ),
    "set": (
        '--all --allow-missing-template-keys --containers --dry-run --env --field-manager --filename --from '
        '--group --keys --kustomize --limits --list --local --output --overwrite --prefix --recursive --requests '
        '--resolve --resource-version --selector --serviceaccount --show-managed-fields --template --user -R -c '
        '-e -f -k -l -o'
    ),
    "taint": (
        '--all --allow-missing-template-keys --dry-run --field-manager --output --overwrite --selector '
        '--show-managed-fields --template --validate -l -o'
    ),
    "top": (
        '--all-namespaces --containers --field-selector --no-headers --selector --show-capacity --sort-by --sum '
        '--use-protocol-buffers -A -l'
    ),
    "uncordon": (
        '--dry-run --selector -l'
    ),
    "version": (
        '--client --output -o'
    ),
    "wait": (
        '--all --all-namespaces --allow-missing-template-keys --field-selector --filename --for --local --output '
        '--recursive --selector --show-managed-fields --template --timeout -A -R -f -l -o'
    ),
}

ALL_FLAGS: dict[str, frozenset[str]] = {verb: frozenset(flags.split()) | GLOBAL_FLAGS
                                       for verb, flags in _ALL_FLAGS.items()}
