{{- define "tenant.labels" -}}
app.kubernetes.io/name: api
app.kubernetes.io/instance: {{ .Values.namespace }}
app.kubernetes.io/part-of: {{ .Values.namespace }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "tenant.selector" -}}
app.kubernetes.io/name: api
app.kubernetes.io/instance: {{ .Values.namespace }}
{{- end -}}
