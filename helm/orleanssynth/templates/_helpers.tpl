{{/* The release's object name prefix: the release name, or "orleanssynth" when the release is called that. */}}
{{- define "orleanssynth.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "orleanssynth.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: orleanssynth
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "orleanssynth.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "orleanssynth.redis" -}}
{{- if .Values.redis.enabled -}}{{ include "orleanssynth.fullname" . }}-redis:6379{{- else -}}{{ required "redis.address is required when redis.enabled is false" .Values.redis.address }}{{- end -}}
{{- end -}}

{{- define "orleanssynth.operatorTokenSecret" -}}
{{- .Values.operatorToken.existingSecret | default (printf "%s-operator-token" (include "orleanssynth.fullname" .)) -}}
{{- end -}}
