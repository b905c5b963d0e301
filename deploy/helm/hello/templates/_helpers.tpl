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

{{/*
The workload's spec.replicas. Without autoscaling: replicaCount. With it, the field belongs
to the autoscaler, but an upgrade that drops it (turning autoscaling on) makes Kubernetes
reset the running workload to 1 replica until the HPA acts again, below minReplicas. So an
upgrade of a live workload keeps its current count (within the autoscaler's bounds), which
is what the HPA last set: nothing to fight. Where there is no live object (a first install,
or a render without a cluster: helm template, Argo CD) the field is left out.
*/}}
{{- define "hello.replicasField" -}}
{{- if not .Values.autoscaling.enabled }}
replicas: {{ .Values.replicaCount }}
{{- else }}
{{- $rolling := eq .Values.rollout.strategy "rolling" }}
{{- $live := lookup (ternary "apps/v1" "argoproj.io/v1alpha1" $rolling) (ternary "Deployment" "Rollout" $rolling) .Release.Namespace (include "hello.fullname" .) }}
{{- if and $live $live.spec $live.spec.replicas }}
replicas: {{ min (max (int $live.spec.replicas) (int .Values.autoscaling.minReplicas)) (int .Values.autoscaling.maxReplicas) }}
{{- end }}
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

{{/*
The service's pod template (metadata and spec), shared by the Deployment (rollout.strategy
rolling) and the Argo Rollouts Rollout (canary, blueGreen): one pod, whatever the strategy.
*/}}
{{- define "hello.podTemplate" -}}
metadata:
  labels:
    {{- include "hello.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or .Values.metrics.scrapeAnnotations .Values.podAnnotations }}
  annotations:
    {{- if .Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/path: {{ .Values.metrics.path | quote }}
    prometheus.io/port: {{ .Values.metrics.port | quote }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "hello.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  # No docker-link style env: a Service named "hello" would otherwise inject HELLO_PORT=tcp://...
  # into the app's HELLO_* settings namespace.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- include "hello.podSecurityContext" . | nindent 4 }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpread }}
  topologySpreadConstraints:
    {{- range $key, $spread := . }}
    {{- if $spread }}
    - topologyKey: {{ $key }}
      maxSkew: {{ $spread.maxSkew }}
      whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "hello.selectorLabels" $ | nindent 10 }}
      matchLabelKeys:
        - pod-template-hash
    {{- end }}
    {{- end }}
  {{- end }}
  containers:
    - name: hello
      image: {{ include "hello.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: http
          containerPort: {{ .Values.containerPort }}
          protocol: TCP
        - name: metrics
          containerPort: {{ .Values.metrics.port }}
          protocol: TCP
      env:
        - name: HELLO_PORT
          value: {{ .Values.containerPort | quote }}
        - name: HELLO_METRICS_PORT
          value: {{ .Values.metrics.port | quote }}
        - name: HELLO_LOG_LEVEL
          value: {{ .Values.app.logLevel | quote }}
        - name: HELLO_DRAIN_SECONDS
          value: {{ .Values.app.drainSeconds | quote }}
        - name: HELLO_GRACE_PERIOD_SECONDS
          value: {{ .Values.app.gracePeriodSeconds | quote }}
        - name: HELLO_POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- if .Values.faults.errorRate }}
        - name: HELLO_FAULT_ERROR_RATE
          value: {{ .Values.faults.errorRate | quote }}
        {{- end }}
        {{- if .Values.faults.latencyMs }}
        - name: HELLO_FAULT_LATENCY_MS
          value: {{ .Values.faults.latencyMs | quote }}
        {{- end }}
        {{- range $name, $value := .Values.app.extraEnv }}
        - name: {{ $name }}
          value: {{ $value | quote }}
        {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.probes.startup.periodSeconds }}
        failureThreshold: {{ .Values.probes.startup.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
        failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
      readinessProbe:
        httpGet:
          {{- if .Values.faults.unready }}
          # faults.unready: a route that answers 404, so this pod never becomes Ready.
          path: /readyz-fault-injected
          {{- else }}
          path: /readyz
          {{- end }}
          port: http
        periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
        failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
        successThreshold: {{ .Values.probes.readiness.successThreshold }}
        timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ .Values.preStopSleepSeconds }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- include "hello.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* What the HPA or the ScaledObject scales: the Deployment, or the Rollout (canary, blueGreen). */}}
{{- define "hello.scaleTargetRef" -}}
{{- if eq .Values.rollout.strategy "rolling" -}}
apiVersion: apps/v1
kind: Deployment
{{- else -}}
apiVersion: argoproj.io/v1alpha1
kind: Rollout
{{- end }}
name: {{ include "hello.fullname" . }}
{{- end }}

{{/*
The ports of a headless pods Service: the port Prometheus scrapes, named for its DNS SRV
lookup (_metrics._tcp). The one place that says which container port serves /metrics.
*/}}
{{- define "hello.podsServicePorts" -}}
- name: metrics
  port: {{ .Values.metrics.port }}
  targetPort: metrics
  protocol: TCP
{{- end }}

{{/* The headless Service of the new revision's pods (Argo Rollouts sets its selector). */}}
{{- define "hello.canaryPodsService" -}}
{{ include "hello.fullname" . }}-canary-pods
{{- end }}

{{/*
The label selector of the new revision's real requests, as Prometheus labels them: the
canary pods Service's name without "-pods" (deploy/monitoring/prometheus.yaml), probes and
scrapes excluded. The AnalysisTemplate's own placeholder {{args.service}} names it.
*/}}
{{- define "hello.analysisSelector" -}}
namespace="{{ .Release.Namespace }}",service="{{ "{{" }}args.service{{ "}}" }}",route!~"/healthz|/readyz|/metrics"
{{- end }}

{{/*
A rate() over the new revision's own pods,
`sum(rate(<metric>{<selector><extra>}[window]) * on(instance) group_left() <its pods>)`:
the canary pods Service can still list the old pods (Argo Rollouts switches its selector
once the new pods are available, and DNS lags), and their series stay in a rate window
after they leave it, so the analysis also joins on the service's hello_build_info, whose
`pod` names the pod: a name carries the pod template hash, which the Rollout passes as
{{args.canary-hash}}. Call with (dict "root" . "metric" M "extra" E "by" B), B "" or
" by (le)".
*/}}
{{- define "hello.newPodsRate" -}}
{{- $a := .root.Values.rollout.analysis -}}
{{- $sel := include "hello.analysisSelector" .root -}}
sum{{ .by }}(rate({{ .metric }}{ {{- $sel }}{{ .extra }}}[{{ $a.window }}]) * on(instance) group_left() hello_build_info{namespace="{{ .root.Release.Namespace }}",service="{{ "{{" }}args.service{{ "}}" }}",pod=~".+-{{ "{{" }}args.canary-hash{{ "}}" }}-[a-z0-9]+"})
{{- end }}

{{/*
The two metrics of an AnalysisTemplate, each measured every rollout.analysis.interval:
success-rate and latency-p95 of the new pods (hello.newPodsRate), with "enough" traffic.
Call with (dict "root" . "count" N "initialDelay" D "failureLimit" F "inconclusiveLimit" I);
N 0: no end.
*/}}
{{- define "hello.analysisMetrics" -}}
{{- $a := .root.Values.rollout.analysis -}}
{{- $rate := include "hello.newPodsRate" (dict "root" .root "metric" "hello_http_requests_total" "extra" "" "by" "") -}}
{{- $errors := include "hello.newPodsRate" (dict "root" .root "metric" "hello_http_requests_total" "extra" ",status=\"5xx\"" "by" "") -}}
{{- $buckets := include "hello.newPodsRate" (dict "root" .root "metric" "hello_http_request_duration_seconds_bucket" "extra" "" "by" " by (le)") -}}
{{- $enough := printf "and on() (%s >= %v)" $rate $a.minRequestRate -}}
{{- $common := dict "interval" $a.interval "initialDelay" .initialDelay "failureLimit" .failureLimit "inconclusiveLimit" .inconclusiveLimit -}}
{{- if .count }}{{ $_ := set $common "count" .count }}{{ end -}}
{{- $metrics := list
  (dict "name" "success-rate"
    "successCondition" (printf "len(result) > 0 && result[0] >= %v" $a.minSuccessRate)
    "failureCondition" (printf "len(result) > 0 && result[0] < %v" $a.minSuccessRate)
    "query" (printf "(1 - (%s or vector(0)) / %s) %s" $errors $rate $enough))
  (dict "name" "latency-p95"
    "successCondition" (printf "len(result) > 0 && result[0] <= %v" $a.maxP95Seconds)
    "failureCondition" (printf "len(result) > 0 && result[0] > %v" $a.maxP95Seconds)
    "query" (printf "histogram_quantile(0.95, %s) %s" $buckets $enough)) -}}
{{- range $metrics }}
- name: {{ .name }}
  {{- toYaml $common | nindent 2 }}
  successCondition: {{ .successCondition }}
  failureCondition: {{ .failureCondition }}
  provider:
    prometheus:
      address: {{ $a.prometheusAddress | quote }}
      query: {{ .query | quote }}
{{- end }}
{{- end }}
