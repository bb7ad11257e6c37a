"""ROS 2's own launch (launch, launch_yaml, launch_ros), driven as `ros2 launch` drives it; run in a subprocess
whose PYTHONPATH / AMENT_PREFIX_PATH hold that launch (see test_ros2_launch.py).

  parse REPORT FILE...          load each file with launch.frontend and turn it into a LaunchDescription;
                                REPORT (JSON): {file: {"ok": true, "actions": [type names]} or {"ok": false,
                                "error": "..."}}
  run REPORT FILE [name:=value ...]
                                run the file through launch.LaunchService as ros2launch's launch_a_launch_file
                                does; REPORT (JSON): every process's name, pid, exit code and exit time, and
                                when shutdown began (monotonic seconds). Watching the events changes nothing.
"""

from __future__ import annotations

import json
import sys
import time
import traceback


def parse(report: str, files: list[str]) -> int:
    import launch.frontend

    results = {}
    for path in files:
        try:
            root, parser = launch.frontend.Parser.load(path)
            description = parser.parse_description(root)
            results[path] = {"ok": True, "actions": [type(e).__name__ for e in description.entities]}
        except Exception as exc:  # noqa: BLE001 - whatever launch raises is the finding
            results[path] = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                             "where": traceback.format_exc(limit=-3)}
    with open(report, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=1)
    return 0


def run(report: str, path: str, launch_args: list[str]) -> int:
    import launch
    from launch.event_handlers import OnProcessExit, OnProcessStart, OnShutdown
    from launch.launch_description_sources import AnyLaunchDescriptionSource

    record: dict = {"processes": {}, "shutdown_at": None}

    def started(event, context):
        record["processes"][str(event.pid)] = {"name": event.process_name, "pid": event.pid,
                                              "started_at": time.monotonic()}

    def exited(event, context):
        record["processes"][str(event.pid)].update(returncode=event.returncode, exited_at=time.monotonic())

    def shutdown(event, context):
        if record["shutdown_at"] is None:
            record["shutdown_at"] = time.monotonic()
            record["shutdown_reason"] = event.reason

    pairs = [tuple(arg.split(":=", 1)) for arg in launch_args]
    service = launch.LaunchService(argv=launch_args, noninteractive=True)
    service.include_launch_description(launch.LaunchDescription([
        launch.actions.RegisterEventHandler(OnProcessStart(on_start=started)),
        launch.actions.RegisterEventHandler(OnProcessExit(on_exit=exited)),
        launch.actions.RegisterEventHandler(OnShutdown(on_shutdown=shutdown)),
        launch.actions.IncludeLaunchDescription(AnyLaunchDescriptionSource(path), launch_arguments=pairs),
    ]))
    rc = service.run()
    record["returncode"] = rc
    with open(report, "w", encoding="utf-8") as out:
        json.dump(record, out, indent=1)
    return rc


if __name__ == "__main__":
    mode, report, *rest = sys.argv[1:]
    sys.exit(parse(report, rest) if mode == "parse" else run(report, rest[0], rest[1:]))
