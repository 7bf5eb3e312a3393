"""The plugin files of a sweep, handed to every Dask worker (imported only with
``--scheduler``, which needs the `distributed` package).

A worker of a cluster may run on another machine, where the coordinator's plugin paths
do not exist: `PluginFiles` carries the files' text, writes them into a folder of the
worker's own and loads them there with the loader the coordinator passed
(`verify_sublin.plugins.load_plugins`: the bench layer never imports the plugins layer
above it), for every worker that is running or joins later. Cost: one small file write
and one import per plugin and worker.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["PluginFiles"]


class PluginFiles(WorkerPlugin):
    """A distributed worker plugin that loads the sweep's plugin files on each worker."""

    name = "verify-sublin-plugins"

    def __init__(self, paths, loader):
        self.files = [(Path(p).name, Path(p).read_text()) for p in paths]
        self.loader = loader        #: a module-level function of a list of paths (picklable)

    def setup(self, worker=None) -> None:
        folder = tempfile.mkdtemp(prefix="verify-sublin-plugins-")
        paths = []
        for name, text in self.files:
            path = os.path.join(folder, name)
            with open(path, "w") as fh:
                fh.write(text)
            paths.append(path)
        self.loader(paths)
