module hello-platform/argocd-redis

go 1.25

// The version in Argo CD v3.2.11's module graph (its go.mod).
require github.com/alicebob/miniredis/v2 v2.35.0

require github.com/yuin/gopher-lua v1.1.1 // indirect
