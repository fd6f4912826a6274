"""A private PulseAudio server for the tests, with a ``virt`` null sink as the microphone.

What ``paplay --device=virt`` plays comes back through ``virt.monitor``, the default source.
The server runs in its own runtime folder (``PULSE_RUNTIME_PATH``), so test runs of several
people on one machine never share, unplug or stop each other's server.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

SINK = "virt"
TOOLS = ("pulseaudio", "pactl", "paplay")


def pactl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=check)


def server_running() -> bool:
    return pactl("info", check=False).returncode == 0


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def module_ids(name: str, argument: str = "") -> list[str]:
    """Ids of the loaded modules called ``name`` (whose arguments contain ``argument``)."""
    ids = []
    for line in pactl("list", "short", "modules").stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1] == name and argument in fields[2]:
            ids.append(fields[0])
    return ids


def null_sink_module() -> str | None:
    """The id of the module-null-sink module that provides ``virt``, if loaded."""
    ids = module_ids("module-null-sink", f"sink_name={SINK}")
    return ids[0] if ids else None


def default_source() -> str:
    for line in pactl("info").stdout.splitlines():
        if line.startswith("Default Source:"):
            return line.split(":", 1)[1].strip()
    return ""


@dataclass
class PulseServer:
    started: bool  # we started the server (and stop it afterwards)
    loaded_sink: bool  # we loaded the virt sink into a server that was running already

    def load_sink(self) -> None:
        """Load the ``virt`` null sink (plug the virtual microphone in) unless it is there."""
        if null_sink_module() is None:
            pactl("load-module", "module-null-sink", f"sink_name={SINK}")
        pactl("set-default-source", f"{SINK}.monitor")

    def unload_sink(self) -> None:
        """Unload the ``virt`` null sink (unplug the virtual microphone)."""
        module = null_sink_module()
        if module is not None:
            pactl("unload-module", module)

    def unplug_for_real(self) -> None:
        """Remove every source: without module-always-sink's dummy sink a recording stream dies."""
        for module in module_ids("module-always-sink"):
            pactl("unload-module", module)
        self.unload_sink()

    def replug(self) -> None:
        """Undo :meth:`unplug_for_real`: the virt sink (and the always-sink module) again."""
        self.load_sink()
        if not module_ids("module-always-sink"):
            pactl("load-module", "module-always-sink")


def start_private_server(runtime: str) -> None:
    """Start a PulseAudio daemon whose socket lives in ``runtime`` and point clients at it."""
    os.environ["PULSE_RUNTIME_PATH"] = runtime
    os.environ["PULSE_STATE_PATH"] = runtime
    os.environ.pop("PULSE_SERVER", None)
    # no --disallow-exit: `pactl exit` must be able to stop it
    subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1", "-n",
         "--load=module-native-protocol-unix",
         f"--load=module-null-sink sink_name={SINK}",
         "--load=module-always-sink"],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
