"""The core: running processes, errors, progress lines and where things live.

It imports nothing else of the package.
"""
