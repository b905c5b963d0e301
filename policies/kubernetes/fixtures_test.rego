# METADATA
# title: Test fixtures
# description: Manifests that pass every policy; each test breaks one thing in a copy.
package kubernetes.fixtures_test

container := {
	"name": "hello",
	"image": "registry.local/hello:0.1.0",
	"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
	"readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
	"resources": {
		"requests": {"cpu": "100m", "memory": "128Mi"},
		"limits": {"cpu": "1", "memory": "256Mi"},
	},
	"securityContext": {
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem": true,
		"capabilities": {"drop": ["ALL"]},
	},
}

pod_spec := {
	"automountServiceAccountToken": false,
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [container],
	"volumes": [{"name": "tmp", "emptyDir": {}}],
}

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "hello"},
	"spec": {"template": {
		"metadata": {"annotations": {
			"prometheus.io/scrape": "true",
			"prometheus.io/path": "/metrics",
			"prometheus.io/port": "8000",
		}},
		"spec": pod_spec,
	}},
}

# A Deployment whose only container is ``c``.
deployment_with(c) := json.patch(deployment, [{"op": "replace", "path": "/spec/template/spec/containers", "value": [c]}])

# ``deployment`` with one JSON patch operation applied.
patched(op, path, value) := json.patch(deployment, [{"op": op, "path": path, "value": value}])

hpa := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "hello"},
	"spec": {"minReplicas": 2, "maxReplicas": 10},
}

scaled_object := {
	"apiVersion": "keda.sh/v1alpha1",
	"kind": "ScaledObject",
	"metadata": {"name": "hello"},
	"spec": {
		"minReplicaCount": 1,
		"maxReplicaCount": 5,
		"fallback": {"failureThreshold": 3, "replicas": 2},
	},
}

# The eks profile's Ingress: an internet-facing ALB, HTTPS with HTTP redirected, public
# paths only.
ingress := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "hello", "annotations": {
		"alb.ingress.kubernetes.io/scheme": "internet-facing",
		"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:000000000000:certificate/x",
		"alb.ingress.kubernetes.io/listen-ports": `[{"HTTP": 80}, {"HTTPS": 443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect": "443",
	}},
	"spec": {
		"ingressClassName": "alb",
		"rules": [{"host": "hello.example.com", "http": {"paths": [
			{"path": "/", "pathType": "Exact", "backend": {"service": {"name": "hello", "port": {"name": "http"}}}},
			{"path": "/version", "pathType": "Exact", "backend": {"service": {"name": "hello", "port": {"name": "http"}}}},
		]}}],
	},
}

# ``ingress`` with JSON patch operations applied.
ingress_patched(ops) := json.patch(ingress, ops)
