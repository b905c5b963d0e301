# Change to your fork: the CI roles trust exactly this repository.
github_repository = "hello-platform/hello-platform"
