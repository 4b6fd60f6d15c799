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

{{/* The Secret with Redis' passwords: "password" (default user: silos) and "reader-password" (reader: clients). */}}
{{- define "orleanssynth.redisAuthSecret" -}}
{{- if .Values.redis.auth.existingSecret -}}{{ .Values.redis.auth.existingSecret }}
{{- else if .Values.redis.enabled -}}{{ include "orleanssynth.fullname" . }}-redis-auth
{{- else -}}{{ required "redis.auth.existingSecret is required when redis.enabled is false (keys password and reader-password)" .Values.redis.auth.existingSecret }}
{{- end -}}
{{- end -}}

{{/* The silos' mutual TLS Secret (tls.crt, tls.key, ca.crt), mounted at /etc/orleanssynth/tls. */}}
{{- define "orleanssynth.tlsSecret" -}}
{{- required "tls.secretName is required: a Secret with tls.crt, tls.key and ca.crt for the silos' mutual TLS (see values.yaml)" .Values.tls.secretName -}}
{{- end -}}

{{- define "orleanssynth.clientTlsSecret" -}}
{{- required "tls.clientSecretName is required when submitJob.enabled: the Job's client certificate Secret (tls.crt, tls.key, ca.crt; OU=submitter)" .Values.tls.clientSecretName -}}
{{- end -}}

{{/* "true" when the cluster keeps its state in Azure Storage (storage: azure), else empty: Redis and a shared volume. */}}
{{- define "orleanssynth.azure" -}}
{{- if eq .Values.storage "azure" -}}true{{- end -}}
{{- end -}}

{{/* storage: azure: a connection string Secret or both service URLs (the schema checks the same; this names them). */}}
{{- define "orleanssynth.azureCheck" -}}
{{- with .Values.azure -}}
{{- if not (or .existingSecret (and .tableServiceUrl .blobServiceUrl)) -}}
{{- fail "storage: azure needs azure.existingSecret (a Secret with connection-string and client-connection-string) or both azure.tableServiceUrl and azure.blobServiceUrl (an identity)" -}}
{{- end -}}
{{- if and .workloadIdentity.enabled (not .workloadIdentity.clientId) -}}
{{- fail "azure.workloadIdentity.enabled needs azure.workloadIdentity.clientId (the identity's client id)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* storage: azure: NetworkPolicy egress items to Azure Storage on 443 (networkPolicy.azureStorage.cidrs; empty: any
     address) and, given true as the second item, to the node's IMDS. Takes (list networkPolicy imds). */}}
{{- define "orleanssynth.azureEgress" -}}
{{- $np := index . 0 -}}
# Azure Storage (and Microsoft Entra ID, for an identity's token), HTTPS.
- ports:
    - { port: 443, protocol: TCP }
  {{- with ($np.azureStorage | default dict).cidrs }}
  to:
    {{- range . }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
  {{- end }}
{{- if index . 1 }}
# The node's managed identity (DefaultAzureCredential without workload identity): the instance metadata service.
- to:
    - ipBlock: { cidr: 169.254.169.254/32 }
  ports:
    - { port: 80, protocol: TCP }
{{- end }}
{{- end -}}
