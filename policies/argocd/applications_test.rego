# METADATA
# title: Tests of argocd.applications
# description: A compliant Application passes; each test breaks one rule in a copy of it.
package argocd.applications_test

import data.argocd.applications

app := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "Application",
	"metadata": {"name": "hello", "namespace": "argocd"},
	"spec": {
		"project": "hello",
		"source": {"repoURL": "https://git.example/hello.git", "targetRevision": "main", "path": "deploy/helm/hello"},
		"destination": {"server": "https://kubernetes.default.svc", "namespace": "hello"},
	},
}

ids(denials) := {d.id | some d in denials}

test_compliant_application_passes if {
	count(applications.deny) == 0 with input as app
}

test_other_kinds_ignored if {
	count(applications.deny) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
}

test_application_outside_argocd_denied if {
	ids(applications.deny) == {"AC001"} with input as object.union(app, {"metadata": {"name": "hello", "namespace": "hello"}})
}

test_default_project_denied if {
	ids(applications.deny) == {"AC002"} with input as object.union(app, {"spec": object.union(app.spec, {"project": "default"})})
}

test_head_revision_denied if {
	src := object.union(app.spec.source, {"targetRevision": "HEAD"})
	ids(applications.deny) == {"AC003"} with input as object.union(app, {"spec": object.union(app.spec, {"source": src})})
}

test_missing_revision_in_sources_denied if {
	spec := object.union(object.remove(app.spec, ["source"]), {"sources": [{"repoURL": "https://git.example/x.git", "path": "p"}]})
	ids(applications.deny) == {"AC003"} with input as object.union(object.remove(app, ["spec"]), {"spec": spec})
}

test_applicationset_template_checked if {
	appset := {
		"apiVersion": "argoproj.io/v1alpha1",
		"kind": "ApplicationSet",
		"metadata": {"name": "envs", "namespace": "argocd"},
		"spec": {"template": {"spec": object.union(app.spec, {"project": "default"})}},
	}
	ids(applications.deny) == {"AC002"} with input as appset
}
