"""Find ROS packages and their executables: the ament index, else the installed Python distribution.

On a ROS machine (AMENT_PREFIX_PATH set, e.g. after `colcon build` and sourcing install/setup.bash) a package is
`<prefix>/share/<pkg>` with executables in `<prefix>/lib/<pkg>/`. Where ROS comes from PyPI wheels, the package is
the Python distribution of that name (`pip install -e ros2_ws/src/v2p_ros`): its executables are its
console_scripts, and its share folder is the source folder of an editable install (launch/ and config/ are
symlinks there to the repository's folders) or `<sys.prefix>/share/<pkg>` of a regular one.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from v2p.launch.errors import LaunchError

_MARKERS = "share/ament_index/resource_index/packages"


class PackageFinder:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        prefixes = [Path(p) for p in env.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
        self.prefixes = prefixes + [Path(sys.prefix)]  # the venv holds the ROS wheels' own ament index

    def _ament_prefix(self, pkg: str) -> Path | None:
        for prefix in self.prefixes:
            if (prefix / _MARKERS / pkg).is_file():
                return prefix
        return None

    @staticmethod
    def _distribution(pkg: str) -> metadata.Distribution | None:
        for name in (pkg, pkg.replace("_", "-")):
            try:
                return metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
        return None

    def prefix(self, pkg: str, where: str) -> Path:
        if (prefix := self._ament_prefix(pkg)) is not None:
            return prefix
        if self._distribution(pkg) is not None:
            return Path(sys.prefix)
        raise LaunchError(f"{where}: package '{pkg}' not found (not in the ament index of "
                          f"{', '.join(map(str, self.prefixes))}, nor an installed Python distribution)")

    def share(self, pkg: str, where: str) -> Path:
        if (prefix := self._ament_prefix(pkg)) is not None and (prefix / "share" / pkg).is_dir():
            return prefix / "share" / pkg
        dist = self._distribution(pkg)
        if dist is not None:
            if (source := _editable_source(dist)) is not None and (source / "package.xml").is_file():
                return source
            if (Path(sys.prefix) / "share" / pkg / "package.xml").is_file():
                return Path(sys.prefix) / "share" / pkg
            raise LaunchError(f"{where}: package '{pkg}' is installed but has no share folder with package.xml")
        raise LaunchError(f"{where}: package '{pkg}' not found (for its share folder)")

    def executable(self, pkg: str, exe: str, where: str) -> Path:
        prefix = self._ament_prefix(pkg)
        if prefix is not None:
            path = prefix / "lib" / pkg / exe
            if path.is_file() and os.access(path, os.X_OK):
                return path
        dist = self._distribution(pkg)
        if dist is not None:
            scripts = sorted(ep.name for ep in dist.entry_points if ep.group == "console_scripts")
            if exe in scripts:
                path = Path(sysconfig.get_path("scripts")) / exe
                if path.is_file():
                    return path
                raise LaunchError(f"{where}: executable '{exe}' of package '{pkg}' is declared but not installed "
                                  f"at {path}; reinstall the package")
            raise LaunchError(f"{where}: package '{pkg}' has no executable '{exe}' "
                              f"(it has: {', '.join(scripts) or 'none'})")
        if prefix is not None:
            found = sorted(p.name for p in (prefix / "lib" / pkg).glob("*") if p.is_file())
            raise LaunchError(f"{where}: package '{pkg}' has no executable '{exe}' (it has: {', '.join(found) or 'none'})")
        raise LaunchError(f"{where}: package '{pkg}' not found (looked in the ament index of "
                          f"{', '.join(map(str, self.prefixes))} and the installed Python distributions)")


def _editable_source(dist: metadata.Distribution) -> Path | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not info.get("dir_info", {}).get("editable"):
        return None
    url = urlparse(info.get("url", ""))
    return Path(unquote(url.path)) if url.scheme == "file" else None
