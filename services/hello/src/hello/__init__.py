"""hello: the hello-world service of hello-platform."""
