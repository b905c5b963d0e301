"""The core: processes, errors, progress, waiting, paths, the catalogue; imports no other layer."""
