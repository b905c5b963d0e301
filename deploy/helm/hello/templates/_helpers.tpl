{{/* Chart name, overridable with nameOverride. */}}
{{- define "hello.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: "<release>-<chart>", or the release name when it already contains the
chart name; truncated to 63 characters (DNS label limit).
*/}}
{{- define "hello.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "name-version" for the helm.sh/chart label. */}}
{{- define "hello.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that never change for a release: used in selectors. */}}
{{- define "hello.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hello.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The recommended app.kubernetes.io/* labels, on every resource. */}}
{{- define "hello.labels" -}}
helm.sh/chart: {{ include "hello.chart" . }}
{{ include "hello.selectorLabels" . }}
app.kubernetes.io/version: {{ include "hello.tag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: hello-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "hello.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hello.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image tag: image.tag, or the chart's appVersion. */}}
{{- define "hello.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The image reference: repository:tag, plus @digest when a digest is given. */}}
{{- define "hello.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository (include "hello.tag" .) .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "hello.tag" .) }}
{{- end }}
{{- end }}

{{/* Replicas the workload runs with in steady state: minReplicas with the HPA. */}}
{{- define "hello.replicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- .Values.autoscaling.minReplicas }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
The Pod Security "restricted" pod- and container-level securityContexts, shared by the
service's pod and the test pod.
*/}}
{{- define "hello.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "hello.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Checks of values that the schema cannot express; each fails the render with a sentence. */}}
{{- define "hello.validate" -}}
{{- $needed := add .Values.preStopSleepSeconds .Values.app.drainSeconds .Values.app.gracePeriodSeconds }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be at least preStopSleepSeconds + app.drainSeconds + app.gracePeriodSeconds (%v), or pods are killed mid-drain" .Values.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%v) must not exceed autoscaling.maxReplicas (%v)" .Values.autoscaling.minReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (eq .Values.autoscaling.mode "requests") (gt (int .Values.autoscaling.requests.fallbackReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.requests.fallbackReplicas (%v) must not exceed autoscaling.maxReplicas (%v)" .Values.autoscaling.requests.fallbackReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- if and .Values.service.nodePort (eq .Values.service.type "ClusterIP") }}
{{- fail "service.nodePort is set but service.type is ClusterIP; use type NodePort (or LoadBalancer), or set nodePort to 0" }}
{{- end }}
{{- if eq (int .Values.containerPort) (int .Values.metrics.port) }}
{{- fail (printf "metrics.port (%v) must differ from containerPort: the metrics are served apart from the app" .Values.metrics.port) }}
{{- end }}
{{- if and .Values.ingress.enabled (eq .Values.ingress.className "alb") (not .Values.ingress.certificateArn) }}
{{- fail "ingress.certificateArn is required for an ALB Ingress (ingress.className alb): give the ARN of the ACM certificate for ingress.host (--set ingress.certificateArn=arn:aws:acm:REGION:ACCOUNT:certificate/ID), or set ingress.enabled=false" }}
{{- end }}
{{- if eq (include "hello.tag" .) "latest" }}
{{- fail "image.tag must not be \"latest\": deploy an immutable tag (the build's tag) or a digest" }}
{{- end }}
{{- end }}

{{/*
The release's total request rate, probes and scrapes excluded: what the ScaledObject scales on.
*/}}
{{- define "hello.requestRateQuery" -}}
sum(rate(hello_http_requests_total{namespace="{{ .Release.Namespace }}",service="{{ include "hello.fullname" . }}",route!~"/healthz|/readyz|/metrics"}[{{ .Values.autoscaling.requests.window }}]))
{{- end }}
