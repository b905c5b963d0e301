# METADATA
# title: Argo CD Applications
# description: >-
#   Argo CD only reconciles Applications in its own namespace; each belongs to a project
#   of its own (not `default`, which allows everything) and tracks a fixed revision
#   (a branch, tag or commit, never HEAD or empty). ApplicationSets' templates too.
package argocd.applications

apps contains {"name": input.metadata.name, "meta": input.metadata, "spec": input.spec} if {
	input.kind == "Application"
	startswith(input.apiVersion, "argoproj.io/")
}

apps contains {"name": input.metadata.name, "meta": input.metadata, "spec": input.spec.template.spec} if {
	input.kind == "ApplicationSet"
	startswith(input.apiVersion, "argoproj.io/")
}

sources(spec) := [spec.source] if spec.source

sources(spec) := spec.sources if spec.sources

# METADATA
# title: In the argocd namespace
# description: metadata.namespace is argocd (Argo CD ignores Applications elsewhere).
# custom:
#   id: AC001
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some a in apps
	object.get(a.meta, "namespace", "") != "argocd"
	msg := sprintf("Application '%s' must be in namespace argocd (metadata.namespace), where Argo CD looks for it", [a.name])
}

# METADATA
# title: Not in the default project
# description: spec.project names a project of its own, not `default` (which allows any repo and destination).
# custom:
#   id: AC002
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some a in apps
	object.get(a.spec, "project", "default") in {"default", ""}
	msg := sprintf("Application '%s' must use an AppProject of its own, not 'default' (spec.project)", [a.name])
}

# METADATA
# title: A fixed target revision
# description: Every source's targetRevision is set and is not HEAD.
# custom:
#   id: AC003
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some a in apps
	some s in sources(a.spec)
	upper(trim_space(object.get(s, "targetRevision", ""))) in {"", "HEAD"}
	msg := sprintf("Application '%s' must track a branch, tag or commit (targetRevision), not HEAD or nothing", [a.name])
}
